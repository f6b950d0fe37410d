"""The `history` command (headless and in the menu): query, render, clear (DESIGN §2.8).

Reads of the SQLite file run in a worker thread: a file locked by another process never
freezes the loop (the menu, a spinner). Results go to stdout, everything else to stderr.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from falyx.context import ExecutionContext
from falyx.errors import FalyxError
from falyx.history_row import JSON, HistoryRow
from falyx.store import SQLiteHistoryStore

if TYPE_CHECKING:
    from falyx.app import Falyx
    from falyx.runner import Session

__all__ = ["HistoryQuery", "MemoryHistory", "history_source", "parse_since", "show_history",
           "use_history"]

_T = TypeVar("_T")
_AGE = re.compile(r"(\d+(?:\.\d+)?)([smhdw])", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800}


@dataclass
class HistoryQuery:
    """The options of one `history` call (DESIGN §2.8); `since` is an epoch in seconds."""

    status: str | None = None
    name: str | None = None
    command: str | None = None
    kind: str | None = None
    since: float | None = None
    limit: int = 50
    result_index: int | None = None
    last_result: bool = False
    run: str | None = None
    clear: bool = False
    skip_confirm: bool = False
    json: bool = False
    #: Why `command` names no command of the app (`unknown command 'Z'; did you mean 'B'?`),
    #: or None: with no record either, `history` says so and exits 2.
    unknown_command: str | None = None


def parse_since(text: str, now: float | None = None) -> float:
    """The epoch (seconds) that `--since TEXT` means.

    TEXT is an age — `90s`, `30m`, `1h`, `2d`, `1w`, or a sum such as `1h30m` — or an ISO date
    or date-time: `2026-11-30`, `2026-11-30T14:00`, `2026-11-30 14:00:00+01:00`, local time
    unless an offset is given. Raises `ValueError` with a one-line message otherwise.
    """
    spec = text.strip()
    if spec and not _AGE.sub("", spec).strip():
        seconds = sum(float(n) * _UNIT_SECONDS[u.lower()] for n, u in _AGE.findall(spec))
        if math.isfinite(seconds):
            return (time.time() if now is None else now) - seconds
    elif spec:
        if spec[-1] in "Zz":  # Python 3.10's fromisoformat does not read the Z suffix
            spec = spec[:-1] + "+00:00"
        try:
            when = datetime.fromisoformat(spec)
        except ValueError:
            pass
        else:  # a time without an offset is local time, as the table shows it
            return (when if when.tzinfo else when.astimezone()).timestamp()
    raise ValueError(f"--since: {text!r} is neither an age (30m, 1h, 2d, 1h30m) nor a date "
                     "(2026-11-30, 2026-11-30T14:00)")


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
              limit: int | None = 50, *, kind: str | None = None,
              since: float | None = None) -> list[HistoryRow]:
        found = [c for c in self.registry.records(status=status, name=name, command=command,
                                                  run_id=run_id)
                 if (kind is None or c.kind.lower() == kind.lower())
                 and (since is None or (c.start is not None and c.start >= since))]
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

    def run_ids(self, prefix: str, limit: int = 2) -> list[str]:
        found = sorted({c.run_id for c in self.registry if prefix and c.run_id.startswith(prefix)})
        return found[:limit]

    def clear(self) -> None:
        self.registry.clear()


def history_source(app: Falyx) -> SQLiteHistoryStore | MemoryHistory:
    """Where `history` reads: the persistent store when there is one, else memory."""
    store = app.registry.store
    return store if isinstance(store, SQLiteHistoryStore) and store.enabled else MemoryHistory(app)


async def use_history(app: Falyx, work: Callable[[Any], _T]) -> _T:
    """`work(source)` once the runs recorded so far are written; in a worker thread for the
    SQLite file (a file locked by another process never blocks the loop)."""
    await app.registry.drain()
    source = history_source(app)
    if isinstance(source, MemoryHistory):
        return work(source)
    return await asyncio.to_thread(work, source)


async def show_history(app: Falyx, query: HistoryQuery, session: Session) -> int:
    """Run one `history` call; returns the exit code."""
    from falyx import render

    console = render.make_console()
    if query.clear:
        return await _clear(app, query, session, console)
    if query.result_index is not None or query.last_result:
        return await _show_one(app, query, console)
    if query.run:
        ids = await use_history(app, lambda s: s.run_ids(query.run))
        if len(ids) != 1:
            what = "no run" if not ids else "more than one run"
            render.render_error(f"Error: {what} with an id starting '{query.run}'", console)
            return 2
        rows = await use_history(app, lambda s: s.run_tree(ids[0]))
    else:
        rows = await use_history(app, lambda s: s.query(
            status=query.status, name=query.name, command=query.command, limit=query.limit,
            kind=query.kind, since=query.since))
    if not rows and query.unknown_command:
        render.render_error(f"Error: --command: {query.unknown_command}", console)
        return 2
    if query.json:
        _print_json([r.as_json() for r in rows])
    elif query.run:
        render.render_run_tree(rows, console)
    else:
        render.render_history_table(rows, console)
    return 0


async def _clear(app: Falyx, query: HistoryQuery, session: Session, console: Any) -> int:
    from falyx import render
    from falyx.prompts import confirm

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
    await use_history(app, lambda s: s.clear())
    app.registry.clear()
    console.print("History cleared.")
    return 0


async def _show_one(app: Falyx, query: HistoryQuery, console: Any) -> int:
    """`--result-index I` / `--last-result`: the result on stdout (exit 0), or why there is
    none on stderr (exit 1; a failed record's traceback); an unknown index exits 2."""
    from falyx import render

    index = query.result_index
    row = await use_history(app, lambda s: s.get(index) if index is not None
                             else s.last(query.command))
    if row is None and query.unknown_command and index is None:
        render.render_error(f"Error: --command: {query.unknown_command}", console)
        return 2
    if row is None:
        if index is not None:
            render.render_error(f"Error: no history record with index {index}", console)
            return 2
        which = f" of command '{query.command}'" if query.command else ""
        render.render_error(f"Error: no command run{which} is recorded yet", console)
        return 1
    problem = _no_result(row)
    if query.json:
        _print_json(row.as_json())
        return 1 if problem else 0
    console.print(f"{row.name} [{row.kind}] #{row.index} command={row.command} "
                  f"status={row.status} attempts={row.attempts} run={row.run_id}",
                  markup=False, highlight=False)
    if problem:
        if row.traceback:
            sys.stderr.write(row.traceback if row.traceback.endswith("\n")
                             else row.traceback + "\n")
        render.render_error(f"Error: record #{row.index} {problem}", console)
        return 1
    value = row.value
    text = value if isinstance(value, str) or row.result_format != JSON else json.dumps(
        value, ensure_ascii=False, allow_nan=False)
    sys.stdout.write(f"{text}\n")
    sys.stdout.flush()
    return 0


def _no_result(row: HistoryRow) -> str | None:
    """Why `row` has no result to print, or None when it has one."""
    if row.status == "ERROR":
        return f"failed: {row.error_type}: {row.error}"
    if row.status == "CANCELLED":
        return "was cancelled; it has no result"
    if row.kind == "Rollback":
        return f"is the rollback of '{row.name}'; a rollback has no result"
    if row.result_format is None:
        return "has no stored result (its step has record_result=False)"
    if row.result_format == JSON and row.result == "null":
        return "returned None"
    return None


def _print_json(payload: Any) -> None:
    """Strict JSON (no NaN): a stored value that is not JSON reads as its text (`value`)."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, allow_nan=False) + "\n")
    sys.stdout.flush()
