"""The interactive menu: the table of commands, a `> ` prompt, and what each entry does.

One event loop throughout: the prompt is prompt_toolkit's `prompt_async` and commands run
through `runner.execute`, exactly as the headless `run KEY` does (preview, confirm, spinner,
Ctrl-C cancels the command and rolls back, the outcome is printed), then the menu resumes.
SIGTERM during a command ends the menu with 143, as it ends `run KEY`.
"""

from __future__ import annotations

import shlex
import signal
from typing import TYPE_CHECKING

from falyx.app import BUILTIN_KEYS
from falyx.errors import CommandNotFound, UsageError
from falyx.runner import SIGNAL_EXIT, RunRequest, Session, execute

if TYPE_CHECKING:
    from prompt_toolkit.input import Input
    from prompt_toolkit.output import Output

    from falyx.app import Falyx
    from falyx.command import Command

__all__ = ["HISTORY_ROWS", "handle_entry", "run_menu"]

HISTORY_ROWS = 50
_TERMINATED = SIGNAL_EXIT[signal.SIGTERM]
# Words that also reach the built-ins, unless a command claims them as an alias or name.
_BUILTIN_WORDS = {"HELP": "H", "HISTORY": "Y", "EXIT": "X", "QUIT": "X"}
_HINT = ("Type a key (any case) to run its command, ?KEY to preview it without running, "
         "H -t TAG to list the commands with a tag; Tab completes. X, Ctrl-D or Ctrl-C at the "
         "prompt exits.")


async def run_menu(
    app: Falyx,
    session: Session | None = None,
    *,
    input: Input | None = None,
    output: Output | None = None,
) -> int:
    """Show the commands and answer the `> ` prompt until the user leaves; returns 0 (143 if
    a SIGTERM ended a command).

    `input`/`output` default to the terminal; tests pass a pipe input and a dummy output.
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
        code = await handle_entry(app, session, entry)
    return code


async def handle_entry(app: Falyx, session: Session, entry: str) -> int | None:
    """Act on one line typed at the prompt; None to stay in the menu, else the exit status."""
    from falyx import render

    text = entry.strip()
    if not text:
        return None
    preview_only = text.startswith("?")
    if preview_only:
        text = text[1:].strip()
    elif _is_help_with_options(app, text):
        return _filtered_help(app, text)
    try:
        target = _resolve(app, text)
    except CommandNotFound as exc:
        render.render_error(f"Error: {exc}")
        return None
    if isinstance(target, str):  # a built-in
        if preview_only:
            render.render_error(f"Error: '{target}' is the built-in {BUILTIN_KEYS[target]}; "
                                "only commands have a preview")
            return None
        return _builtin(app, target)
    if preview_only:
        render.render_preview(target.preview())
        return None
    if await execute(app, RunRequest(target), session) == _TERMINATED:
        return _TERMINATED
    render.render_commands(app)
    return None


def _resolve(app: Falyx, text: str) -> Command | str:
    """The command for `text`, or the letter of a built-in (`H`, `Y`, `X`)."""
    if not text:
        raise CommandNotFound("type a command key after '?', e.g. '?R'")
    word = text.upper()
    if word in BUILTIN_KEYS:
        return word
    try:
        return app.get(text)
    except CommandNotFound:
        if word in _BUILTIN_WORDS:
            return _BUILTIN_WORDS[word]
        raise


def _builtin(app: Falyx, key: str) -> int | None:
    from falyx import render

    if key == "X":
        return 0
    if key == "H":
        render.render_commands(app)
        render.make_console().print(_help_text(app), markup=False, highlight=False)
    else:
        from falyx.history_view import history_source

        render.render_history_table(history_source(app).query(limit=HISTORY_ROWS))
    return None


def _is_help_with_options(app: Falyx, text: str) -> bool:
    """`H -t TAG` (or `help --tag TAG`): the built-in help word followed by options."""
    word, _, rest = text.partition(" ")
    if not rest.strip():
        return False
    try:
        return _resolve(app, word) == "H"
    except CommandNotFound:
        return False


def _filtered_help(app: Falyx, text: str) -> None:
    """`H -t TAG`, `H --tag TAG`, `H --tag=TAG`: only the commands with that tag."""
    from falyx import render

    try:
        options = shlex.split(text)[1:]
    except ValueError as exc:  # an unclosed quote
        options = [f"<{exc}>"]
    if len(options) == 2 and options[0] in ("-t", "--tag"):
        tag = options[1]
    elif len(options) == 1 and options[0].startswith("--tag="):
        tag = options[0].removeprefix("--tag=")
    else:
        render.render_error(f"Error: H takes only -t TAG, got {' '.join(options)!r}")
        return None
    try:
        render.render_commands(app, tag=tag)
    except UsageError as exc:
        render.render_error(f"Error: {exc}")
    return None


def _help_text(app: Falyx) -> str:
    toggles = [f"Ctrl+{t.key.upper()} flips '{t.label}'" for t in app.bottom_bar.toggles.values()]
    return _HINT + (f"\n{'; '.join(toggles)}." if toggles else "")
