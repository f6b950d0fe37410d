"""The interactive menu: the table of commands, a `> ` prompt, and what each entry does.

One event loop throughout: the prompt is prompt_toolkit's `prompt_async` and commands run
through `runner.execute`, exactly as the headless `run KEY` does (preview, confirm, spinner,
Ctrl-C cancels the command and rolls back, the outcome is printed), then the menu resumes.
SIGTERM during a command ends the menu with 143, as it ends `run KEY`.

A submenu's key opens the mounted app's menu (its title, its commands, the prompt showing the
path: `ops > `); there `B` goes back up and `X` leaves from any depth (DESIGN §2.12).
"""

from __future__ import annotations

import shlex
import signal
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Protocol

from falyx.app import Falyx
from falyx.errors import CommandNotFound, UsageError
from falyx.runner import SIGNAL_EXIT, RunRequest, Session, execute
from falyx.submenu import (
    BACK,
    BACK_KEY,
    BUILTIN_KEYS,
    SEPARATOR,
    Submenu,
    command_pattern,
    label_prefix,
    resolve_path,
)

if TYPE_CHECKING:
    from prompt_toolkit.input import Input
    from prompt_toolkit.output import Output

    from falyx.command import Command

__all__ = ["HISTORY_ROWS", "LineParser", "handle_entry", "run_menu"]


class LineParser(Protocol):
    """Reads the words typed after a key with the command's own CLI (`falyx.cli.line_parser`
    gives one)."""

    def __call__(
        self, command: Command, words: list[str], *, label: str | None = None,
        preview: bool = False,
    ) -> tuple[RunRequest, AbstractContextManager[object]] | None:
        """The request and what to close after running it, or None when the words only
        printed help. `label` names the command in usage lines and errors; with `preview`,
        no option is required. Raises `UsageError` (one line) on bad words."""

    def complete(self, app: Falyx, words: list[str], incomplete: str) -> list[tuple[str, str, str]]:
        """`(value, help, kind)` completing `incomplete` after `words` (a key of `app`'s menu
        and the words after it); `kind` is `plain`, `file` or `dir`."""


HISTORY_ROWS = 50
_TERMINATED = SIGNAL_EXIT[signal.SIGTERM]
# Words that also reach the built-ins, unless a command claims them as an alias or name.
_HELP_KEY = next(key for key, name in BUILTIN_KEYS.items() if name == "Help")
_MENU_HELP_HINT = f"type {_HELP_KEY} for the commands"
_BUILTIN_WORDS = {"HELP": "H", "HISTORY": "Y", "EXIT": "X", "QUIT": "X", "BACK": BACK_KEY}
_HINT = ("Type a key (any case) to run its command, with its options after it (KEY --name "
         "VALUE; KEY --help lists them); ?KEY to preview it without running (options "
         "optional); H -t TAG lists the commands with a tag; Tab completes keys, options and "
         "their values. X, Ctrl-D or Ctrl-C at the prompt exits.")
_SUBMENU_HINT = (" A key marked ▸ opens a submenu (O.R runs its R from here); in a submenu, "
                 "B goes back.")


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

    `app` may be a mounted app: the menu opens at its level (`B` goes up to its parent's).
    `input`/`output` default to the terminal; tests pass a pipe input and a dummy output.
    `parse` reads `KEY --opt v` lines (the CLI passes its own, for the root app's tree);
    without it, keys take no arguments and run with their functions' defaults.
    """
    from falyx.render import render_commands

    render_commands(app, back=app.mount is not None)  # first: it shows while prompt_toolkit loads
    from falyx.prompts import menu_prompt, show_level

    session = session or Session()
    complete = getattr(parse, "complete", None)
    prompt = menu_prompt(app, input=input, output=output, complete=complete)
    current: Falyx = app
    while True:
        try:
            entry = await prompt.prompt_async()
        except (EOFError, KeyboardInterrupt):  # Ctrl-D / Ctrl-C at the prompt: leave quietly
            return 0
        outcome = await handle_entry(current, session, entry, parse)
        if isinstance(outcome, int):
            return outcome
        if outcome is not None and outcome is not current:  # into a submenu, or back
            current = outcome
            show_level(prompt, current, complete)


async def handle_entry(
    app: Falyx, session: Session, entry: str, parse: LineParser | None = None
) -> int | Falyx | None:
    """Act on one line typed at `app`'s prompt (`KEY`, `KEY --opt v`, `?KEY`, a submenu's
    key, `B`); None to stay in this menu, an app to show its menu instead (a submenu's, or
    the parent's on `B`), else the exit status."""
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
        if isinstance(target, Submenu):
            return _open(target, preview_only, words)
        parsed = (parse or _no_arguments)(target, words[1:], label=_relative_label(app, target),
                                          preview=preview_only)
    except (UsageError, ValueError) as exc:  # ValueError: shlex, e.g. an unclosed quote
        render.render_error(f"Error: {exc}")
        return None
    if parsed is None:  # `KEY --help` printed the command's help
        return None
    request, resources = parsed
    with resources:
        if preview_only:
            render.render_preview(app.preview(target, request.kwargs,
                                              overrides=request.overrides))
            return None
        if await execute(app, request, session) == _TERMINATED:
            return _TERMINATED
    render.render_commands(app, back=app.mount is not None)
    return None


def _open(submenu: Submenu, preview_only: bool, words: list[str]) -> Falyx | None:
    """`O`: the submenu's app, its table drawn; `?O`: the preview of its commands."""
    from falyx import render

    if len(words) > 1:
        raise UsageError(f"'{words[0]}' opens the menu {submenu.description!r} and takes no "
                         f"options; to run one of its commands from here, type "
                         f"{words[0]}{SEPARATOR}KEY")
    if preview_only:
        render.render_preview(submenu.preview())
        return None
    render.render_commands(submenu.app, back=True)
    return submenu.app


def _no_arguments(
    command: Command, words: list[str], *, label: str | None = None, preview: bool = False
) -> tuple[RunRequest, AbstractContextManager[object]]:
    if words:
        raise UsageError(f"{label or command.key}: this menu takes no options after a key")
    return RunRequest(command), nullcontext()


def _relative_label(app: Falyx, command: Command) -> str:
    """How `app`'s prompt names `command`: its key, or its path below `app` (`O.S`)."""
    return app.label(command).removeprefix(label_prefix(app))


def _resolve(app: Falyx, text: str) -> Command | Submenu | str:
    """The command or submenu for `text` (a path such as `O.R` too), or the letter of a
    built-in (`H`, `Y`, `X`, and `B` in a submenu)."""
    word = text.upper()
    nested = app.mount is not None
    if word in BUILTIN_KEYS or (nested and word == BACK_KEY):
        return word
    try:  # no suggestion: the menu lists its commands with H, not the CLI's `help`
        return resolve_path(app, text, help_hint=_MENU_HELP_HINT)
    except CommandNotFound:
        builtin = _BUILTIN_WORDS.get(word)
        if builtin is not None and (nested or builtin != BACK_KEY):
            return builtin
        raise


def _builtin(app: Falyx, key: str, preview_only: bool, words: list[str]) -> int | Falyx | None:
    from falyx import render

    name = BUILTIN_KEYS.get(key, BACK)
    if preview_only:
        raise UsageError(f"'{key}' is the built-in {name}; only commands have a preview")
    if key == "H" and words:
        render.render_commands(app, tag=_help_tag(words))
        return None
    if words:
        raise UsageError(f"'{key}' ({name}) takes no arguments")
    if key == "X":
        return 0
    if key == BACK_KEY and app.mount is not None:
        parent = app.mount.parent
        render.render_commands(parent, back=parent.mount is not None)
        return parent
    if key == "H":
        render.render_commands(app, back=app.mount is not None)
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
    """`Y`: the newest records (in a submenu, of its commands), read off the loop (a locked
    file never freezes the menu)."""
    from falyx import render
    from falyx.history_view import use_history

    scope = command_pattern(app, None)
    render.render_history_table(
        await use_history(app, lambda s: s.query(limit=HISTORY_ROWS, command=scope)))


def _help_text(app: Falyx) -> str:
    toggles = [f"Ctrl+{t.key.upper()} flips '{t.label}'" for t in app.bottom_bar.toggles.values()]
    nested = app.submenus or app.mount is not None
    return _HINT + (_SUBMENU_HINT if nested else "") + (
        f"\n{'; '.join(toggles)}." if toggles else "")
