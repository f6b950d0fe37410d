"""`SQLiteHistoryStore`: execution history in one SQLite file, shared safely by processes.

Any fault (corrupt file, unwritable place, lock held too long, full disk) turns the store off
with one warning: history then lives in memory only and no run ever fails because of it.
"""

from __future__ import annotations

import dataclasses
import logging
import operator
import os
import re
import reprlib
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from falyx.store_schema import immediate, migrate

if TYPE_CHECKING:
    from falyx.context import ExecutionContext

__all__ = ["HistoryRow", "SQLiteHistoryStore", "resolve_history_path", "result_text", "state_file"]

logger = logging.getLogger("falyx")

RESULT_CHARS = 1_000
ERROR_CHARS = 2_000
TRACEBACK_CHARS = 20_000  # the end of a traceback is the useful part; keep that
JSON_KEYS = ("index", "run_id", "parent", "command", "name", "kind", "start", "end", "duration",
             "status", "attempts", "result", "error_type", "error", "traceback")
_T = TypeVar("_T")
_inherited: list[sqlite3.Connection | None] = []  # kept alive so a fork child never closes them
_FAULTS = (sqlite3.Error, OSError)  # what turns the store off instead of failing a run
_COLUMNS = ("id, run_id, parent, program, command, name, kind, start, \"end\", duration, "
            "status, attempts, result, error_type, error, traceback")


def resolve_history_path(program: str, override: str | None = None) -> Path | None:
    """`--history` (`override`), else `$FALYX_HISTORY`, else the XDG state dir; `off` is None."""
    choice = override if override else os.environ.get("FALYX_HISTORY", "").strip()
    if choice:
        return None if choice.lower() == "off" else Path(choice).expanduser()
    return state_file(program, ".db")


def state_file(program: str, suffix: str) -> Path:
    """`$XDG_STATE_HOME/falyx/<program><suffix>` (state dir default `~/.local/state`)."""
    state = os.environ.get("XDG_STATE_HOME", "")
    base = Path(state) if os.path.isabs(state) else Path.home() / ".local" / "state"
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", program).strip("._-")[:100] or "falyx"
    return base / "falyx" / f"{name}{suffix}"


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One stored step execution; `index` is its stable history index, times are epochs."""

    index: int
    run_id: str
    parent: int | None
    program: str
    command: str | None
    name: str
    kind: str
    start: float | None
    end: float | None
    duration: float | None
    status: str
    attempts: int
    result: str | None
    error_type: str | None
    error: str | None
    traceback: str | None

    @classmethod
    def of(cls, ctx: ExecutionContext, index: int, parent: int | None,
           program: str = "") -> HistoryRow:
        """The stored form of a record: bounded result repr, error and traceback if it failed."""
        failed = ctx.status != "OK" and ctx.exception is not None
        exc = ctx.exception if failed else None
        return cls(
            index, ctx.run_id, parent, program, ctx.command, ctx.name, ctx.kind, ctx.start,
            ctx.end, ctx.duration, ctx.status, ctx.attempts, result_text(ctx),
            None if exc is None else type(exc).__name__,
            None if exc is None else _clip(str(exc), ERROR_CHARS),
            _clip(ctx.traceback, TRACEBACK_CHARS, keep_end=True) if failed else None,
        )

    def as_json(self) -> dict[str, Any]:
        """The `history --json` object: fixed keys, times as ISO-8601 UTC strings."""
        data = {key: getattr(self, key) for key in JSON_KEYS}
        data["start"], data["end"] = _iso(self.start), _iso(self.end)
        return data


#: A row's values in column order, for INSERT.
_row_values = operator.attrgetter(*(f.name for f in dataclasses.fields(HistoryRow)))


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc).isoformat()


class SQLiteHistoryStore:
    """A `HistoryStore` in SQLite: opened lazily, thread-safe, never raises into a run."""

    def __init__(
        self, path: str | os.PathLike[str], program: str, max_rows: int = 100_000,
        *, timeout: float = 10.0,
    ) -> None:
        if max_rows < 1:
            raise ValueError(f"history max_rows must be at least 1, got {max_rows}")
        self.path = Path(path)
        self.program = program
        self.max_rows = max_rows
        self.timeout = timeout
        self.error: str | None = None
        self._ready = False
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._closer: weakref.finalize | None = None

    @property
    def enabled(self) -> bool:
        """False once a fault has turned the store off for this process."""
        return self.error is None

    def write_run(self, records: Sequence[ExecutionContext]) -> None:
        """Store one run's records in one transaction, then prune beyond `max_rows`."""
        if records:
            self._use(lambda conn: self._insert(conn, records), None, "written to")

    def _insert(self, conn: sqlite3.Connection, records: Sequence[ExecutionContext]) -> None:
        with immediate(conn):
            # ids are given here (under the write lock) so parents map before insertion
            first = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM sqlite_sequence "
                                 "WHERE name = 'history'").fetchone()[0]
            conn.executemany(f"INSERT INTO history ({_COLUMNS}) VALUES ({', '.join('?' * 16)})",
                             self._rows(records, first))
            conn.execute("DELETE FROM history WHERE id <= ?",
                         (first + len(records) - 1 - self.max_rows,))

    def _rows(self, records: Sequence[ExecutionContext], first: int) -> Iterator[tuple]:
        stored = {ctx.id: first + offset for offset, ctx in enumerate(records)}
        for ctx in records:
            parent = None if ctx.parent is None else stored.get(ctx.parent.id)
            yield _row_values(HistoryRow.of(ctx, stored[ctx.id], parent, self.program))

    def clear(self) -> None:
        """Delete every stored record (indices are never reused)."""

        def delete(conn: sqlite3.Connection) -> None:
            with immediate(conn):
                conn.execute("DELETE FROM history")

        self._use(delete, None, "written to")

    def query(
        self, status: str | None = None, name: str | None = None, command: str | None = None,
        run_id: str | None = None, limit: int | None = 50,
    ) -> list[HistoryRow]:
        """The newest `limit` records matching every filter given, newest last."""
        where, params = _filters(status=status, name=name, command=command, run_id=run_id)
        params.append(-1 if limit is None else max(limit, 0))  # SQLite: LIMIT -1 is no limit
        return self._select(f"SELECT {_COLUMNS} FROM history{where} ORDER BY id DESC LIMIT ?",
                            params)[::-1]

    def get(self, index: int) -> HistoryRow | None:
        """The record with this history index, if stored."""
        rows = self._select(f"SELECT {_COLUMNS} FROM history WHERE id = ?", [index])
        return rows[0] if rows else None

    def last(self, command: str | None = None) -> HistoryRow | None:
        """The newest top-level record (a whole command run), optionally of one command."""
        where, params = _filters(command=command)
        where += " AND parent IS NULL" if where else " WHERE parent IS NULL"
        rows = self._select(f"SELECT {_COLUMNS} FROM history{where} ORDER BY id DESC LIMIT 1",
                            params)
        return rows[0] if rows else None

    def run_tree(self, run_id: str) -> list[HistoryRow]:
        """A run's records in tree order: each parent before its children, by start time."""
        rows = self._select(f"SELECT {_COLUMNS} FROM history WHERE run_id = ? "
                            "ORDER BY start, id", [run_id])
        ids = {row.index for row in rows}
        children: dict[int | None, list[HistoryRow]] = {}
        for row in rows:
            children.setdefault(row.parent if row.parent in ids else None, []).append(row)

        def walk(parent: int | None) -> Iterator[HistoryRow]:
            for row in children.get(parent, ()):
                yield row
                yield from walk(row.index)

        return list(walk(None))

    def count(self) -> int:
        """How many records are stored."""
        rows = self._fetch("SELECT count(*) FROM history", ())
        return rows[0][0] if rows else 0

    def close(self) -> None:
        """Close the connection (the next call reopens it)."""
        with self._lock:
            if self._closer is not None:
                self._closer()
            self._conn = self._closer = None

    def __enter__(self) -> SQLiteHistoryStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _select(self, sql: str, params: Sequence[Any]) -> list[HistoryRow]:
        return [HistoryRow(*row) for row in self._fetch(sql, params)]

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[tuple]:
        if not self._ready and not self.path.exists():
            return []  # reading never creates the file
        return self._use(lambda conn: conn.execute(sql, params).fetchall(), [], "read from")

    def _use(self, work: Callable[[sqlite3.Connection], _T], default: _T, verb: str) -> _T:
        """Run `work` on the connection; a fault turns the store off and gives `default`."""
        with self._lock:
            if not self.enabled:
                return default
            try:
                return work(self._connection())
            except _FAULTS as exc:
                self.error = f"{type(exc).__name__}: {exc}"
                logger.warning("history could not be %s %s (%s); history is kept in memory "
                               "only", verb, self.path, self.error)
        self.close()
        return default

    def _connection(self) -> sqlite3.Connection:
        # One connection stays open: closing the last one checkpoints the WAL (~10 ms, fsync).
        # `close()`, garbage collection or exit close it; the next call reopens it.
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        if self._closer is not None:  # inherited through fork: never touch the parent's
            self._closer.detach()
            _inherited.append(self._conn)
        conn = self._conn = self._open()
        self._pid, self._closer = os.getpid(), weakref.finalize(self, conn.close)
        return conn

    def _open(self) -> sqlite3.Connection:
        if not self._ready:
            _create_private(self.path)
        conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None,
                               check_same_thread=False)  # every use holds self._lock
        try:
            conn.execute("PRAGMA synchronous = NORMAL")
            if not self._ready:
                migrate(conn, self.timeout)
                self._ready = True
        except BaseException:
            conn.close()
            raise
        return conn

    def __repr__(self) -> str:
        state = "enabled" if self.enabled else f"disabled: {self.error}"
        return f"SQLiteHistoryStore({str(self.path)!r}, program={self.program!r}, {state})"


def _create_private(path: Path) -> None:
    """Create the folder (0700) and the file (0600) if missing; leave existing ones alone."""
    with suppress(FileExistsError):
        path.parent.mkdir(parents=True, mode=0o700)
        os.chmod(path.parent, 0o700)  # mkdir's mode is filtered by the umask
    with suppress(FileExistsError):
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        os.fchmod(fd, 0o600)
        os.close(fd)


_SCALARS = (type(None), bool, int, float, str)
_repr = reprlib.Repr()  # bounded: a huge result must not cost a huge repr
_repr.maxstring = _repr.maxother = _repr.maxlong = RESULT_CHARS
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = _repr.maxdeque = 100


def result_text(ctx: ExecutionContext) -> str | None:
    """The result as a bounded repr; None when it must not be stored or there is none."""
    if not ctx.record_result or ctx.status != "OK":
        return None
    value = ctx.result
    if isinstance(value, str):
        value = value[:RESULT_CHARS]  # the repr of a huge string would cost its whole size
    try:  # builtin repr for scalars (fast); reprlib bounds the cost of containers and objects
        text = repr(value) if type(value) in _SCALARS else _repr.repr(value)
    except Exception as exc:  # a user's __repr__ may raise; history must not
        text = f"<unrepresentable {type(ctx.result).__name__}: {type(exc).__name__}>"
    return _clip(text, RESULT_CHARS)


def _clip(text: str | None, limit: int, keep_end: bool = False) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return "…" + text[1 - limit:] if keep_end else text[: limit - 1] + "…"


def _filters(**values: str | None) -> tuple[str, list[Any]]:
    """A WHERE clause for the filters given (status matched upper-case, command any case)."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in values.items():
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value.upper() if column == "status" else value)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params
