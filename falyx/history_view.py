"""The `history` command (headless and in the menu): query, render, clear."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from falyx.context import ExecutionContext
from falyx.errors import FalyxError
from falyx.store import HistoryRow, SQLiteHistoryStore

if TYPE_CHECKING:
    from falyx.app import Falyx
    from falyx.runner import Session

__all__ = ["HistoryQuery", "MemoryHistory", "history_source", "show_history"]


@dataclass
class HistoryQuery:
    """The options of one `history` call (DESIGN §2.8)."""

    status: str | None = None
    name: str | None = None
    command: str | None = None
    limit: int = 50
    result_index: int | None = None
    last_result: bool = False
    run: str | None = None
    clear: bool = False
    skip_confirm: bool = False
    json: bool = False


def row_of(ctx: ExecutionContext) -> HistoryRow:
    """A stored-row view of an in-memory record."""
    parent = None if ctx.parent is None else ctx.parent.index
    return HistoryRow.of(ctx, -1 if ctx.index is None else ctx.index, parent)


class MemoryHistory:
    """The store interface over the in-memory registry (when history is off)."""

    def __init__(self, app: Falyx) -> None:
        self.registry = app.registry

    def query(self, status: str | None = None, name: str | None = None,
              command: str | None = None, run_id: str | None = None,
              limit: int | None = 50) -> list[HistoryRow]:
        found = self.registry.records(status=status, name=name, command=command, run_id=run_id)
        return [row_of(c) for c in (found[-limit:] if limit else found)]

    def get(self, index: int) -> HistoryRow | None:
        try:
            return row_of(self.registry.get(index))
        except IndexError:
            return None

    def last(self, command: str | None = None) -> HistoryRow | None:
        runs = [c for c in self.registry.records(command=command) if c.parent is None]
        return row_of(runs[-1]) if runs else None

    def run_tree(self, run_id: str) -> list[HistoryRow]:
        return self.query(run_id=run_id, limit=None)

    def clear(self) -> None:
        self.registry.clear()


def history_source(app: Falyx) -> SQLiteHistoryStore | MemoryHistory:
    """Where `history` reads: the persistent store when there is one, else memory."""
    store = app.registry.store
    return store if isinstance(store, SQLiteHistoryStore) and store.enabled else MemoryHistory(app)


async def show_history(app: Falyx, query: HistoryQuery, session: Session) -> int:
    """Run one `history` call; returns the exit code."""
    from falyx import render
    from falyx.prompts import confirm

    source, console = history_source(app), render.make_console()
    if query.clear:
        try:
            ok = query.skip_confirm or await confirm(
                "Delete the whole execution history?", default=False,
                never_prompt=session.never_prompt, hint="history --clear")
        except FalyxError as exc:
            render.render_error(f"Error: {exc}", console)
            return exc.exit_code
        if not ok:
            console.print("Cancelled.")
            return 1
        source.clear()
        app.registry.clear()
        console.print("History cleared.")
        return 0
    if query.result_index is not None or query.last_result:
        row = (source.get(query.result_index) if query.result_index is not None
               else source.last(query.command))
        if row is None:
            render.render_error("Error: no such history record", console)
            return 2
        return _show_one(row, query, console)
    rows = (source.run_tree(query.run) if query.run else
            source.query(status=query.status, name=query.name, command=query.command,
                         limit=query.limit))
    if query.json:
        _print_json([r.as_json() for r in rows])
    elif query.run:
        if not rows:
            render.render_error(f"Error: no run with id '{query.run}'", console)
            return 2
        render.render_run_tree(rows, console)
    else:
        render.render_history_table(rows, console)
    return 0


def _show_one(row: HistoryRow, query: HistoryQuery, console: Any) -> int:
    if query.json:
        _print_json(row.as_json())
        return 0
    console.print(f"{row.name} [{row.kind}] #{row.index} command={row.command} "
                  f"status={row.status} attempts={row.attempts} run={row.run_id}")
    body = row.traceback if row.status == "ERROR" and row.traceback else row.result
    sys.stdout.write(f"{body if body is not None else '(no result recorded)'}\n")
    return 0


def _print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    sys.stdout.flush()
