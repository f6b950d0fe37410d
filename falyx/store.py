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
import sqlite3
import stat
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from falyx.history_row import HistoryRow
from falyx.state_paths import (
    MissingFolder,
    make_private_folder,
    resolve_history_path,
    state_file,
)
from falyx.store_schema import immediate, migrate

if TYPE_CHECKING:
    from falyx.context import ExecutionContext

__all__ = ["HistoryRow", "SQLiteHistoryStore", "path_problem", "resolve_history_path",
           "state_file"]

logger = logging.getLogger("falyx")

_T = TypeVar("_T")
_inherited: list[sqlite3.Connection | None] = []  # kept alive so a fork child never closes them
_FAULTS = (sqlite3.Error, OSError)  # what turns the store off instead of failing a run
_COLUMNS = ("id, run_id, parent, program, command, name, kind, start, \"end\", duration, "
            "status, attempts, result, result_format, error_type, error, traceback")
_FILE_KINDS = {stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
               stat.S_IFDIR: "a directory", stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket"}


def path_problem(path: str | os.PathLike[str]) -> str | None:
    """Why `path` cannot hold a history file (it exists and is not a regular file), or None.

    SQLite would open a device or a FIFO and create its journal beside it (`/dev/null-journal`).
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:  # missing (it will be created) or unreachable (opening it will say why)
        return None
    if stat.S_ISREG(mode):
        return None
    kind = _FILE_KINDS.get(stat.S_IFMT(mode), "not a regular file")
    return f"{os.fspath(path)} is {kind}, not a regular file"


class NotARegularFile(OSError):
    """The history path names a device, a FIFO, a directory or a socket."""


#: A row's values in column order, for INSERT.
_row_values = operator.attrgetter(*(f.name for f in dataclasses.fields(HistoryRow)))


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
        self._lock = threading.RLock()  # also taken by the finalizer that closes at exit
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
            conn.executemany(f"INSERT INTO history ({_COLUMNS}) VALUES ({', '.join('?' * 17)})",
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
        run_id: str | None = None, limit: int | None = 50, *, kind: str | None = None,
        since: float | None = None,
    ) -> list[HistoryRow]:
        """The newest `limit` records matching every filter given, newest last.

        `status`, `command` and `kind` match in any case; `since` is an epoch (seconds): only
        records that started then or later.
        """
        where, params = _filters(status=status, name=name, command=command, run_id=run_id,
                                 kind=kind, since=since)
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

    def run_ids(self, prefix: str, limit: int = 2) -> list[str]:
        """Up to `limit` distinct run ids starting with `prefix`, in order."""
        if not prefix:
            return []
        rows = self._fetch("SELECT DISTINCT run_id FROM history WHERE run_id >= ? AND "
                           "run_id < ? ORDER BY run_id LIMIT ?",
                           (prefix, prefix + "\U0010ffff", limit))
        return [row[0] for row in rows]

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
        return [HistoryRow.read(row) for row in self._fetch(sql, params)]

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
                self.error = str(exc) if isinstance(exc, (NotARegularFile, MissingFolder)) else (
                    f"{type(exc).__name__}: {exc}")
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
        self._pid, self._closer = os.getpid(), weakref.finalize(self, _close, self._lock, conn)
        return conn

    def _open(self) -> sqlite3.Connection:
        if not self._ready:
            problem = path_problem(self.path)
            if problem:
                raise NotARegularFile(problem)
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


def _close(lock: threading.RLock, conn: sqlite3.Connection) -> None:
    """Close `conn` once no thread is using it (closing it mid-statement crashes SQLite)."""
    with lock:
        conn.close()


def _create_private(path: Path) -> None:
    """Create the file (0600) if missing, and its folder (0700) when it is falyx's state dir;
    leave existing ones alone."""
    make_private_folder(path.parent)  # only falyx's own state dir is ever created
    with suppress(FileExistsError):
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        os.fchmod(fd, 0o600)
        os.close(fd)


def _filters(since: float | None = None, **values: str | None) -> tuple[str, list[Any]]:
    """A WHERE clause for the filters given (status, command and kind in any case; a `*` in
    `command` matches any text)."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in values.items():
        if value is None:
            continue
        if column == "command" and "*" in value:  # `O.*`: every command of submenu O
            clauses.append("command LIKE ? ESCAPE '\\'")
            params.append(re.sub(r"([\\%_])", r"\\\1", value).replace("*", "%"))
            continue
        clauses.append("kind = ? COLLATE NOCASE" if column == "kind" else f"{column} = ?")
        params.append(value.upper() if column == "status" else value)
    if since is not None:
        clauses.append("start >= ?")
        params.append(since)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params
