"""Everything falyx draws with rich: preview trees, tables, spinners, error lines."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from falyx.action.base import PreviewNode
from falyx.context import ExecutionContext

if TYPE_CHECKING:
    from falyx.app import Falyx

__all__ = [
    "make_console", "render_commands", "render_error", "render_history_table", "render_preview",
    "render_run_tree", "render_summary", "spinner",
]

STATUS_TEXT = {"OK": "✅ Success", "ERROR": "❌ Error", "CANCELLED": "⛔ Cancelled"}


def make_console(stderr: bool = True) -> Console:
    """A console on the current stderr (or stdout); plain when not a terminal or NO_COLOR."""
    stream = sys.stderr if stderr else sys.stdout
    plain = bool(os.environ.get("NO_COLOR")) or not stream.isatty()
    return Console(file=stream, no_color=plain, highlight=False, emoji=True,
                   force_terminal=False if plain else None, soft_wrap=plain)


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
    """A spinner on stderr while the body runs, only on a colour terminal."""
    console = make_console()
    show = enabled and console.is_terminal and not console.no_color
    with console.status(message) if show else nullcontext():
        yield


def format_value(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _outcome(ctx: ExecutionContext) -> str:
    if ctx.exception is not None:
        return f"{type(ctx.exception).__name__}({str(ctx.exception)!r})"
    return format_value(ctx.result) if ctx.record_result else "(not recorded)"


def _clock(ctx_time: Any) -> str:
    return ctx_time.strftime("%H:%M:%S") if ctx_time is not None else ""


def render_summary(records: Iterable[ExecutionContext], console: Console | None = None) -> None:
    """The `--summary` table of one run: every step, its time, status and outcome."""
    table = Table(title="📊 Execution Summary", expand=False)
    for column in ("Name", "Kind", "Duration", "Attempts", "Status", "Result / Exception"):
        table.add_column(column)
    for ctx in records:
        table.add_row(ctx.name, ctx.kind, f"{ctx.duration or 0:.3f}s", str(ctx.attempts),
                      STATUS_TEXT.get(ctx.status, ctx.status), _outcome(ctx))
    (console or make_console()).print(table)


def render_history_table(rows: Iterable[Any], console: Console | None = None) -> None:
    """`Index | Name | Start | End | Duration | Status | Result / Exception`.

    Rows are contexts or stored history rows (anything with the same attribute names).
    """
    table = Table(title="📊 Execution History", expand=False)
    for column in ("Index", "Name", "Start", "End", "Duration", "Status", "Result / Exception"):
        table.add_column(column, justify="right" if column in ("Index", "Duration") else "left")
    for row in rows:
        outcome = row.outcome if hasattr(row, "outcome") else _outcome(row)
        table.add_row(str(row.index), row.name, _clock(row.start_wall), _clock(row.end_wall),
                      f"{row.duration or 0:.3f}s", STATUS_TEXT.get(row.status, row.status),
                      outcome)
    (console or make_console()).print(table)


def render_run_tree(rows: list[Any], console: Console | None = None) -> None:
    """One run as a tree of steps with durations (rows need `id`/`index` and `parent`)."""
    by_parent: dict[Any, list[Any]] = {}
    for row in rows:
        by_parent.setdefault(row.parent, []).append(row)
    key = "index" if rows and hasattr(rows[0], "outcome") else "id"

    def label(row: Any) -> Text:
        return Text(f"{row.name} [{row.kind}] {STATUS_TEXT.get(row.status, row.status)} "
                    f"{row.duration or 0:.3f}s")

    def add(tree: Tree, row: Any) -> None:
        branch = tree.add(label(row))
        for child in by_parent.get(getattr(row, key), []):
            add(branch, child)

    roots = by_parent.get(None, [])
    console = console or make_console()
    for root in roots:
        tree = Tree(label(root))
        for child in by_parent.get(getattr(root, key), []):
            add(tree, child)
        console.print(tree)


def render_commands(app: Falyx, console: Console | None = None) -> None:
    """The commands grouped by tag: `[R] Run My Pipeline`, plus the built-ins."""
    from falyx.app import BUILTIN_KEYS

    groups: dict[str, list[Any]] = {}
    for command in app.visible_commands():
        groups.setdefault(command.tags[0] if command.tags else "", []).append(command)
    table = Table(title=app.title, show_header=False, box=None, expand=False, padding=(0, 2))
    table.add_column("Command")
    table.add_column("Name")
    table.add_column("Help")
    for tag in sorted(groups, key=lambda t: (t != "", t)):
        if tag:
            table.add_row(Text(f"# {tag}", style="bold"), "", "")
        for c in groups[tag]:
            aliases = f" ({', '.join(c.aliases)})" if c.aliases else ""
            table.add_row(Text(f"[{c.key}] {c.description}{aliases}", style=c.style or ""),
                          Text(c.cli_name or "", style="dim"), Text(_first_line(c.help_text)))
    table.add_row(Text("  ".join(f"[{k}] {v}" for k, v in BUILTIN_KEYS.items())), "", "")
    (console or make_console()).print(table)


def _first_line(text: str) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[1].strip() if len(lines) > 1 else ""
