"""Everything falyx draws with rich: preview trees, tables, spinners, error lines.

User text (titles, descriptions, names, results) is drawn as `Text`, never read as markup;
only a command's `style=` is rich's to interpret.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from falyx.action.base import PreviewNode
from falyx.context import ExecutionContext
from falyx.durations import format_seconds
from falyx.errors import UsageError

if TYPE_CHECKING:
    from falyx.app import Falyx

__all__ = [
    "make_console", "render_commands", "render_error", "render_history_table", "render_preview",
    "render_run_tree", "render_summary", "spinner",
]

STATUS_TEXT = {"OK": "✅ Success", "ERROR": "❌ Error", "CANCELLED": "⛔ Cancelled"}
#: A rollback's own outcome, never to be read as its step's success.
ROLLBACK_TEXT = {"OK": "↩ Rolled back", "ERROR": "❌ Rollback failed",
                 "CANCELLED": "⛔ Rollback cancelled"}
RUN_ID_CHARS = 8  # the Run column; `history --run` takes any unique prefix
OUTCOME_CHARS = 80


#: Off a terminal (a CI log, a pipe) lines are printed whole: never cut, never wrapped. Set
#: $COLUMNS to wrap them at a width instead.
WHOLE_LINES = 100_000
_shared: tuple[TextIO, tuple[Any, ...], Console] | None = None


def make_console() -> Console:
    """The console on the current stderr, one per stream: the log handler, the spinner and every
    line falyx draws share it, so a spinner redraws around log lines (DESIGN §2.6, §2.9).

    Plain when stderr is not a terminal or NO_COLOR is set. On a terminal lines wrap at its
    width; elsewhere they are printed whole (`WHOLE_LINES`), or wrapped at $COLUMNS if set.
    Nothing is ever cut without a mark.
    """
    global _shared
    stream = sys.stderr
    owner = getattr(stream, "owner", None)
    if isinstance(owner, Console):  # a spinner is running (a LiveStream): draw through it
        return owner
    settings = (os.environ.get("NO_COLOR"), os.environ.get("COLUMNS"))
    if _shared is None or _shared[0] is not stream or _shared[1] != settings:
        _shared = (stream, settings, _new_console(stream))
    return _shared[2]


def _new_console(stream: TextIO) -> Console:
    terminal = stream.isatty()
    plain = bool(os.environ.get("NO_COLOR")) or not terminal
    columns = os.environ.get("COLUMNS", "")
    width = None if terminal else int(columns) if columns.isdigit() and int(columns) else \
        WHOLE_LINES
    return Console(file=stream, no_color=plain, highlight=False, emoji=True, width=width,
                   force_terminal=False if plain else None)


def _tree(node: PreviewNode, tree: Tree | None = None) -> Tree:
    branch = Tree(Text(node.label)) if tree is None else tree.add(Text(node.label))
    for child in node.children:
        _tree(child, branch)
    return branch


def render_preview(node: PreviewNode, console: Console | None = None) -> None:
    """Draw a preview tree."""
    (console or make_console()).print(_tree(node))


def render_error(message: str, console: Console | None = None) -> None:
    """One red error line."""
    (console or make_console()).print(Text(message, style="bold red"))


@contextmanager
def spinner(message: str, enabled: bool = True) -> Iterator[None]:
    """A spinner on stderr while the body runs, only on a colour terminal.

    While it spins, whatever is written to stderr (log lines, a shell step's echo, prints), and
    to stdout when it is the same terminal, goes out above it a whole line at a time, never
    glued to its line (`falyx.live_streams`). stdout elsewhere (a pipe, a file) is left alone.
    """
    console = make_console()
    if not (enabled and console.is_terminal and not console.no_color):
        yield
        return
    from rich.live import Live
    from rich.spinner import Spinner

    from falyx.live_streams import routed

    def print_lines(text: str) -> None:
        console.print(Text.from_ansi(text), soft_wrap=True)

    live = Live(Spinner("dots", Text(message), style="status.spinner"), console=console,
                transient=True, refresh_per_second=12.5, redirect_stdout=False,
                redirect_stderr=False)
    with live, routed(print_lines, console.file, owner=console):
        yield


def format_value(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _status(row: Any) -> str:
    """`✅ Success`, or for a rollback record `↩ Rolled back` / `❌ Rollback failed`."""
    texts = ROLLBACK_TEXT if row.kind == "Rollback" else STATUS_TEXT
    return texts.get(row.status, row.status)


def _outcome(row: Any) -> str:
    """`'ok'` or `RuntimeError('boom')` for a context; the stored JSON or repr for a row."""
    if isinstance(row, ExecutionContext):
        if row.exception is not None:
            return f"{type(row.exception).__name__}({str(row.exception)!r})"
        if row.kind == "Rollback":
            return ""
        return format_value(row.result) if row.record_result else "(not recorded)"
    if row.error_type:
        text = f"{row.error_type}({row.error!r})"
        if len(text) > OUTCOME_CHARS:  # an error's end (exit status, stderr line) matters
            return text[: OUTCOME_CHARS // 2] + "…" + text[1 - OUTCOME_CHARS // 2:]
    else:
        text = row.result if row.result is not None else ""
    return text if len(text) <= OUTCOME_CHARS else text[: OUTCOME_CHARS - 1] + "…"


def _clock(epoch: float | None, today: str = "") -> str:
    """Local wall-clock time of an epoch, with the date unless it is `today` (records keep
    UTC; people read local time)."""
    if epoch is None:
        return ""
    when = datetime.fromtimestamp(epoch)
    day = when.strftime("%Y-%m-%d")
    return when.strftime("%H:%M:%S") if day == today else f"{day} {when:%H:%M:%S}"


def render_summary(records: Iterable[ExecutionContext], console: Console | None = None) -> None:
    """The `--summary` table of one run: every step, its time, status and outcome."""
    table = Table(title="📊 Execution Summary", expand=False)
    for column in ("Name", "Kind", "Duration", "Attempts", "Status", "Result / Exception"):
        table.add_column(column, justify="right" if column == "Duration" else "left")
    for ctx in records:
        table.add_row(Text(ctx.name), ctx.kind, format_seconds(ctx.duration or 0),
                      str(ctx.attempts), _status(ctx), Text(_outcome(ctx)))
    (console or make_console()).print(table)


def render_history_table(rows: Iterable[Any], console: Console | None = None) -> None:
    """`Index | Run | Kind | Name | Start | End | Duration | Status | Result / Exception`.

    Rows are stored history rows (`falyx.history_row.HistoryRow`). A rollback row is of kind
    Rollback, named after the step it undoes, with its own status (`↩ Rolled back`).
    """
    table = Table(title="📊 Execution History", expand=False)
    for column in ("Index", "Run", "Kind", "Name", "Start", "End", "Duration", "Status",
                   "Result / Exception"):  # only free text wraps: measuring is the cost here
        table.add_column(column, justify="right" if column in ("Index", "Duration") else "left",
                         no_wrap=column not in ("Name", "Result / Exception"))
    today = datetime.now().strftime("%Y-%m-%d")
    for row in rows:
        table.add_row(*map(Text, (
            str(row.index), row.run_id[:RUN_ID_CHARS], row.kind, _name(row),
            _clock(row.start, today), _clock(row.end, today), format_seconds(row.duration or 0),
            _status(row), _outcome(row))))
    (console or make_console()).print(table)


def render_run_tree(rows: list[Any], console: Console | None = None) -> None:
    """One run as a tree of steps with durations (stored rows: `parent` is an index)."""
    by_parent: dict[Any, list[Any]] = {}
    indices = {row.index for row in rows}
    for row in rows:
        by_parent.setdefault(row.parent if row.parent in indices else None, []).append(row)

    def grow(tree: Tree, row: Any) -> None:
        for child in by_parent.get(row.index, []):
            grow(tree.add(_run_label(child)), child)

    console = console or make_console()
    for root in by_parent.get(None, []):
        tree = Tree(_run_label(root))
        grow(tree, root)
        console.print(tree)


def _run_label(row: Any) -> Text:
    duration = format_seconds(row.duration or 0)
    return Text(f"{_name(row)} [{row.kind}] {_status(row)} {duration}  "
                f"{_outcome(row)}")


def _name(row: Any) -> str:
    """A step's name; the record of a submenu's command run with its path first:
    `[O.R] Restart` (a root app's command is its name alone, as it always was)."""
    label = row.command or ""
    return f"[{label}] {row.name}" if row.kind == "Command" and "." in label else row.name


def render_commands(
    app: Falyx, console: Console | None = None, tag: str | None = None, *, back: bool = False
) -> None:
    """The commands and submenus grouped by tag: `[R] Run My Pipeline`, `[O] Ops ▸` (a
    submenu), plus the built-ins (with `[B] Back` when `back`: the menu of a mounted app).

    With `tag`, only the entries that have it (`help -t TAG`, `H -t TAG`), and no
    built-ins; `UsageError` naming the known tags if none has it.
    """
    from falyx.submenu import BACK, BACK_KEY, BUILTIN_KEYS

    groups = _by_tag([*app.visible_commands(), *app.submenus.values()], tag)
    table = Table(title=Text(app.title), show_header=False, box=None, expand=False, padding=(0, 2))
    table.add_column("Command")
    table.add_column("CLI name")
    for name in sorted(groups, key=lambda t: (t != "", t)):
        if name:
            table.add_row(Text(f"# {name}", style="bold"), "")
        for c in groups[name]:
            aliases = f" ({', '.join(c.aliases)})" if getattr(c, "aliases", ()) else ""
            menu = f" {SUBMENU_MARK}" if c in app.submenus.values() else ""
            table.add_row(Text(f"[{c.key}] {c.description}{aliases}{menu}", style=c.style or ""),
                          Text(c.cli_name or "", style="dim"))
    if tag is None:
        keys = {**BUILTIN_KEYS, **({BACK_KEY: BACK} if back else {})}
        table.add_row(Text("  ".join(f"[{k}] {v}" for k, v in keys.items())), "")
    (console or make_console()).print(table)


#: After a submenu's description in the menu and `help`: the entry opens a menu.
SUBMENU_MARK = "▸"


def _by_tag(commands: list[Any], tag: str | None) -> dict[str, list[Any]]:
    """Entries grouped by their first tag, or only those with `tag` (`UsageError` if none)."""
    if tag is None:
        groups: dict[str, list[Any]] = {}
        for command in commands:
            groups.setdefault(command.tags[0] if command.tags else "", []).append(command)
        return groups
    tagged = [c for c in commands if tag in c.tags]
    if not tagged:
        known = ", ".join(sorted({t for c in commands for t in c.tags})) or "none"
        raise UsageError(f"no command has the tag '{tag}' (tags: {known})")
    return {tag: tagged}
