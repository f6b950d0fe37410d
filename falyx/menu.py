"""The interactive menu: the table of commands, a `> ` prompt, and what each entry does.

One event loop throughout: the prompt is prompt_toolkit's `prompt_async` and commands run
through `runner.execute`, exactly as the headless `run KEY` does (preview, confirm, spinner,
Ctrl-C cancels the command and rolls back, the outcome is printed), then the menu resumes.
SIGTERM during a command ends the menu with 143, as it ends `run KEY`.
"""

from __future__ import annotations

import shlex
import signal
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from falyx.app import BUILTIN_KEYS
from falyx.errors import CommandNotFound, UsageError
from falyx.runner import SIGNAL_EXIT, RunRequest, Session, execute

if TYPE_CHECKING:
    from prompt_toolkit.input import Input
    from prompt_toolkit.output import Output

    from falyx.app import Falyx
    from falyx.command import Command

__all__ = ["HISTORY_ROWS", "LineParser", "handle_entry", "run_menu"]

#: Parses the words typed after a key with the command's own CLI (`falyx.cli.line_parser`):
#: the request and what to close after running it, or None when it only printed help.
#: Raises `UsageError` (Typer's message) on bad words.
LineParser = Callable[["Command", list[str]],
                      "tuple[RunRequest, AbstractContextManager[object]] | None"]

HISTORY_ROWS = 50
_TERMINATED = SIGNAL_EXIT[signal.SIGTERM]
# Words that also reach the built-ins, unless a command claims them as an alias or name.
_BUILTIN_WORDS = {"HELP": "H", "HISTORY": "Y", "EXIT": "X", "QUIT": "X"}
_HINT = ("Type a key (any case) to run its command, with its options after it (B --jobs 8; "
         "B --help lists them); ?KEY to preview it without running; H -t TAG lists the "
         "commands with a tag; Tab completes. X, Ctrl-D or Ctrl-C at the prompt exits.")


async def run_menu(
    app: Falyx,
    session: Session | None = None,
    *,
    input: Input | None = None,
    output: Output | None = None,
    parse: LineParser | None = None,
) -> int:
    """Show the commands and answer the `> ` prompt until the user leaves; returns 0 (143 if
    a SIGTERM ended a command).

    `input`/`output` default to the terminal; tests pass a pipe input and a dummy output.
    `parse` reads `KEY --opt v` lines (the CLI passes its own); without it, keys take no
    arguments and run with their functions' defaults.
    """
    from falyx.render import render_commands

    render_commands(app)  # first, so the table shows while prompt_toolkit loads
    from falyx.prompts import menu_prompt

    session = session or Session()
    prompt = menu_prompt(app, input=input, output=output)
    code = None
    while code is None:
        try:
            entry = await prompt.prompt_async()
        except (EOFError, KeyboardInterrupt):  # Ctrl-D / Ctrl-C at the prompt: leave quietly
            return 0
        code = await handle_entry(app, session, entry, parse)
    return code


async def handle_entry(
    app: Falyx, session: Session, entry: str, parse: LineParser | None = None
) -> int | None:
    """Act on one line typed at the prompt (`KEY`, `KEY --opt v`, `?KEY`); None to stay in
    the menu, else the exit status."""
    from falyx import render

    text = entry.strip()
    preview_only = text.startswith("?")
    try:
        words = shlex.split(text[1:] if preview_only else text)
        if not words:
            if preview_only:
                raise CommandNotFound("type a command key after '?', e.g. '?R'")
            return None
        target = _resolve(app, words[0])
        if isinstance(target, str):  # a built-in
            if target == "Y" and not preview_only and len(words) == 1:
                return await _show_history(app)
            return _builtin(app, target, preview_only, words[1:])
        parsed = (parse or _no_arguments)(target, words[1:])
    except (UsageError, ValueError) as exc:  # ValueError: shlex, e.g. an unclosed quote
        render.render_error(f"Error: {exc}")
        return None
    if parsed is None:  # `KEY --help` printed the command's help
        return None
    request, resources = parsed
    with resources:
        if preview_only:
            render.render_preview(target.preview(kwargs=request.kwargs))
            return None
        if await execute(app, request, session) == _TERMINATED:
            return _TERMINATED
    render.render_commands(app)
    return None


def _no_arguments(
    command: Command, words: list[str]
) -> tuple[RunRequest, AbstractContextManager[object]]:
    if words:
        raise UsageError(f"{command.key}: this menu takes no options after a key")
    return RunRequest(command), nullcontext()


def _resolve(app: Falyx, text: str) -> Command | str:
    """The command for `text`, or the letter of a built-in (`H`, `Y`, `X`)."""
    word = text.upper()
    if word in BUILTIN_KEYS:
        return word
    try:
        return app.get(text)
    except CommandNotFound:
        if word in _BUILTIN_WORDS:
            return _BUILTIN_WORDS[word]
        raise


def _builtin(app: Falyx, key: str, preview_only: bool, words: list[str]) -> int | None:
    from falyx import render

    if preview_only:
        raise UsageError(f"'{key}' is the built-in {BUILTIN_KEYS[key]}; only commands have a "
                         "preview")
    if key == "H" and words:
        render.render_commands(app, tag=_help_tag(words))
        return None
    if words:
        raise UsageError(f"'{key}' ({BUILTIN_KEYS[key]}) takes no arguments")
    if key == "X":
        return 0
    if key == "H":
        render.render_commands(app)
        render.make_console().print(_help_text(app), markup=False, highlight=False)
    return None


def _help_tag(words: list[str]) -> str:
    """The TAG of `H -t TAG`, `H --tag TAG` or `H --tag=TAG`; `UsageError` otherwise."""
    if len(words) == 2 and words[0] in ("-t", "--tag"):
        return words[1]
    if len(words) == 1 and words[0].startswith("--tag="):
        return words[0].removeprefix("--tag=")
    raise UsageError(f"H takes only -t TAG, got {' '.join(words)!r}")


async def _show_history(app: Falyx) -> None:
    """`Y`: the newest records, read off the loop (a locked file never freezes the menu)."""
    from falyx import render
    from falyx.history_view import use_history

    render.render_history_table(await use_history(app, lambda s: s.query(limit=HISTORY_ROWS)))


def _help_text(app: Falyx) -> str:
    toggles = [f"Ctrl+{t.key.upper()} flips '{t.label}'" for t in app.bottom_bar.toggles.values()]
    return _HINT + (f"\n{'; '.join(toggles)}." if toggles else "")
