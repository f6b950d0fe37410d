"""Prompts on questionary's and prompt_toolkit's async APIs; they render on stderr.

Nothing here imports questionary or prompt_toolkit at module level: `app.py --help` must not
load them. A prompt never hangs without a terminal.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from falyx.errors import ConfirmationRequired

if TYPE_CHECKING:
    from collections.abc import Callable

    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import History
    from prompt_toolkit.input import Input
    from prompt_toolkit.output import Output

    from falyx.app import Falyx
    from falyx.bottom_bar import BottomBar

    #: `(app, words, incomplete) -> [(value, help, kind)]`: see `falyx.menu.LineParser`.
    LineCompleter = Callable[[Falyx, list[str], str], list[tuple[str, str, str]]]

__all__ = ["confirm", "has_terminal", "menu_message", "menu_prompt", "prompt_history_path",
           "show_level"]

logger = logging.getLogger("falyx")


def has_terminal() -> bool:
    """True when a person can answer: stdin and stderr are both terminals."""
    return sys.stdin.isatty() and sys.stderr.isatty()


async def confirm(
    message: str, *, default: bool = True, never_prompt: bool = False, hint: str = ""
) -> bool:
    """Ask yes/no; `never_prompt` answers the default; no terminal raises `ConfirmationRequired`.

    The question goes to stderr when stdin and stderr are terminals; when only stdin is (stderr
    redirected: `2>&1 | tee run.log`), to the controlling terminal, `/dev/tty`, as git and sudo
    do. With neither, `ConfirmationRequired` tells the user to pass -y. Ctrl-C propagates as
    `KeyboardInterrupt`.
    """
    if never_prompt:
        return default
    with _question_stream() as stream:
        if stream is None:
            raise ConfirmationRequired(
                f"{hint or 'this command'} needs confirmation but there is no terminal to ask "
                "on; pass -y (--skip-confirm) to go ahead without asking")
        import questionary
        from prompt_toolkit.output import create_output

        question = questionary.confirm(
            message, default=default, qmark="❓",
            instruction=" [Y/n] " if default else " [y/N] ", output=create_output(stdout=stream),
        )
        return bool(await question.unsafe_ask_async())


@contextmanager
def _question_stream() -> Iterator[TextIO | None]:
    """Where a question is drawn: stderr, the controlling terminal, or None (no terminal)."""
    if has_terminal():
        yield sys.stderr
        return
    terminal = None
    if sys.stdin.isatty():
        try:
            terminal = open("/dev/tty", "w", encoding=sys.stdin.encoding or None,  # noqa: SIM115
                            errors="replace")
        except OSError as exc:  # no controlling terminal (setsid, a daemon)
            logger.debug("no controlling terminal to ask on: %s", exc)
    try:
        yield terminal
    finally:
        if terminal is not None:
            terminal.close()


def prompt_history_path(app: Falyx) -> Path | None:
    """`<program>.prompt_history` in the folder of the app's execution history file.

    None (keep it in memory) when history is off (`--history off`, `FALYX_HISTORY=off`, or
    no store attached yet), or when the history path is not a regular file (`/dev/null`).
    """
    from falyx.store import SQLiteHistoryStore, path_problem, state_file

    store = app.registry.store
    if not isinstance(store, SQLiteHistoryStore) or path_problem(store.path):
        return None
    return state_file(app.program, ".prompt_history", store.path.parent)


def menu_prompt(
    app: Falyx,
    *,
    input: Input | None = None,
    output: Output | None = None,
    history: History | None = None,
    complete: LineCompleter | None = None,
) -> PromptSession[str]:
    """The menu's `> ` prompt: key completion, the bottom bar and its Ctrl-key toggles, set
    for `app`'s level (`show_level`; a mounted app's prompt shows its path, `ops > `).

    `input`/`output` default to the terminal (output on stderr); tests pass a pipe input and
    a `DummyOutput`. `history` defaults to the prompt history file beside the (root app's)
    execution history (`prompt_history_path`). `complete` completes the words after a key
    (the CLI's, `falyx.menu.LineParser.complete`); without it, option names are offered.
    """
    from prompt_toolkit import PromptSession
    from prompt_toolkit.output import create_output
    from prompt_toolkit.styles import Style

    root = app.root
    session: PromptSession[str] = PromptSession(
        complete_while_typing=True,
        history=history if history is not None else _file_history(prompt_history_path(root)),
        style=Style.from_dict(_BAR_STYLE),
        input=input,
        output=output if output is not None else create_output(stdout=sys.stderr),
    )
    show_level(session, app, complete)
    return session


def menu_message(app: Falyx) -> str:
    """The prompt: `> ` at the root, the path of submenu names below (`ops > db > `)."""
    from falyx.submenu import mount_path

    return "".join(f"{m.cli_name} > " for m in mount_path(app)) or "> "


def show_level(
    session: PromptSession[str], app: Falyx, complete: LineCompleter | None = None
) -> None:
    """Point the prompt at `app`'s menu: its path, its keys (and `B` in a submenu), and the
    bottom bars of the apps on the way down (the root's first), with their toggles."""
    from prompt_toolkit.key_binding import merge_key_bindings

    from falyx.submenu import mount_path

    bars = [a.bottom_bar for a in (*(m.parent for m in mount_path(app)), app)
            if a.bottom_bar.items]
    session.message = menu_message(app)
    session.completer = _key_completer(app, complete)
    session.bottom_toolbar = _toolbar(bars) if bars else None
    session.key_bindings = merge_key_bindings([_toggle_bindings(bar) for bar in bars])
    session.refresh_interval = 1.0 if bars else 0  # counters change while waiting


# Toggles differ in style as well as text, so a redraw rewrites the whole item.
_BAR_STYLE = {
    "bottom-toolbar.toggle-on": "noreverse bold bg:ansigreen fg:ansiblack",
    "bottom-toolbar.toggle-off": "",
    "bottom-toolbar.separator": "",
}


def _key_completer(app: Falyx, complete: LineCompleter | None) -> Any:
    """Completes keys and aliases (any case) with their descriptions, submenu keys, the
    built-ins (`B` in a submenu), paths into submenus (`o.` -> `O.S`), then the words after a
    key: its options and their values (`b --env ` -> `dev`, `prod`) with `complete`, else its
    option names."""
    from prompt_toolkit.completion import Completer, WordCompleter

    from falyx.submenu import BACK, BACK_KEY, BUILTIN_KEYS, SEPARATOR

    meta = _entry_meta(app)
    meta.update(BUILTIN_KEYS)
    if app.mount is not None:
        meta[BACK_KEY] = BACK
    keys = WordCompleter(list(meta), ignore_case=True, meta_dict=meta)

    class MenuCompleter(Completer):
        def get_completions(self, document: Any, event: Any) -> Any:
            text = document.text_before_cursor
            words = text.split()
            if len(words) < 2 and not text[-1:].isspace():
                word = words[0].lstrip("?") if words else ""
                if SEPARATOR in word:
                    yield from _path_completions(app, word)
                else:
                    yield from keys.get_completions(document, event)
                return
            incomplete = "" if text[-1:].isspace() else words.pop()
            words[0] = words[0].lstrip("?")
            if complete is None:
                yield from _option_names(app, words[0], document, event)
            else:
                yield from _word_completions(complete, app, words, incomplete, event)

    return MenuCompleter()


def _entry_meta(app: Falyx) -> dict[str, str]:
    """Each key and alias of `app`'s visible commands, and its submenus' keys, described."""
    meta = {name: c.description for c in app.visible_commands() for name in (c.key, *c.aliases)}
    meta.update({key: f"{sub.description} ▸" for key, sub in app.submenus.items()})
    return meta


def _path_completions(app: Falyx, word: str) -> Any:
    """`o.` -> `O.S`, `O.L`, ... : the entries of the submenu the path before the last `.`
    names."""
    from prompt_toolkit.completion import Completion

    from falyx.errors import FalyxError
    from falyx.submenu import SEPARATOR, Submenu

    head, _, last = word.rpartition(SEPARATOR)
    try:
        submenu = app.entry(head)
    except FalyxError:
        return
    if not isinstance(submenu, Submenu):
        return
    for key, description in _entry_meta(submenu.app).items():
        if key.startswith(last.upper()):
            yield Completion(f"{head.upper()}{SEPARATOR}{key}", -len(word),
                             display_meta=description)


def _word_completions(
    complete: LineCompleter, app: Falyx, words: list[str], incomplete: str, event: Any
) -> Any:
    """The CLI's completions of `incomplete`; after a bare space, the long option names."""
    from prompt_toolkit.completion import Completion, PathCompleter
    from prompt_toolkit.document import Document

    items = complete(app, words, incomplete)
    if not items and not incomplete:  # as a shell does after `-`, without typing it
        items = [i for i in complete(app, words, "--") if i[0].startswith("--")]
    # `--name=VALUE`: Click completes the value; the completion keeps the `--name=`.
    head, equals, _ = incomplete.partition("=")
    name = head + equals if equals and head[:1] == "-" else ""
    for value, help_text, kind in items:
        if kind in ("file", "dir"):  # Click leaves paths to the shell: complete them here
            paths = PathCompleter(only_directories=kind == "dir", expanduser=True)
            yield from paths.get_completions(Document(incomplete[len(name):]), event)
            return
        yield Completion(name + value, -len(incomplete), display_meta=help_text or None)


def _option_names(app: Falyx, key: str, document: Any, event: Any) -> Any:
    """Without the CLI: the option names of the command `key` names."""
    from prompt_toolkit.completion import WordCompleter

    from falyx.errors import FalyxError
    from falyx.signature import RUN_OPTION_NAMES, option_names

    try:
        command = app.get(key)
    except FalyxError:
        return
    words = [*(n for p in command.parameters() for n in option_names(p)), *RUN_OPTION_NAMES]
    yield from WordCompleter(words, WORD=True).get_completions(document, event)


def _toolbar(bars: list[BottomBar]) -> Any:
    """A callable giving the bars' current text, redrawn on every refresh and key press."""

    def render() -> list[tuple[str, str]]:
        fragments: list[tuple[str, str]] = []
        for kind, text in (part for bar in bars for part in bar.render_parts()):
            if fragments:
                fragments.append(("class:bottom-toolbar.separator", " │ "))
            fragments.append((f"class:bottom-toolbar.{kind}", f" {text} "))
        return fragments

    return render


def _toggle_bindings(bar: BottomBar) -> Any:
    """Ctrl+<key> flips each toggle; the bar redraws."""
    from prompt_toolkit.key_binding import KeyBindings

    bindings = KeyBindings()
    for toggle in bar.toggles.values():

        def flip(event: Any, toggle: Any = toggle) -> None:
            try:
                toggle.flip()
            except Exception as exc:  # a user's on_change must not end the menu
                logger.warning("toggle '%s': on_change failed: %s", toggle.label, exc)
            event.app.invalidate()

        bindings.add(f"c-{toggle.key}")(flip)
    return bindings


def _file_history(path: Path | None) -> History:
    """The prompt history file (0600 in a 0700 folder); memory if None or unwritable."""
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    from falyx.state_paths import make_private_folder
    from falyx.store import path_problem

    if path is None:
        return InMemoryHistory()
    try:
        problem = path_problem(path)
        if problem:  # a device or a FIFO: never write to it, nor beside it
            raise OSError(problem)
        make_private_folder(path.parent)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NONBLOCK, 0o600))
    except OSError as exc:
        logger.warning("prompt history not kept: cannot write %s (%s)", path, exc)
        return InMemoryHistory()
    return FileHistory(str(path))
