"""The history database's schema: forward migrations, WAL, and write transactions."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["MIGRATIONS", "immediate", "migrate", "use_wal"]


def _migrate_1(conn: sqlite3.Connection) -> None:
    conn.execute("""
        CREATE TABLE history (
            id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, parent INTEGER,
            program TEXT NOT NULL, command TEXT COLLATE NOCASE, name TEXT NOT NULL,
            kind TEXT NOT NULL, start REAL, "end" REAL, duration REAL, status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0, result TEXT, error_type TEXT, error TEXT,
            traceback TEXT)""")
    for column in ("run_id", "name", "command", "status"):
        conn.execute(f"CREATE INDEX history_{column} ON history ({column})")


def _migrate_2(conn: sqlite3.Connection) -> None:
    """Results as JSON values (`result_format` json | repr) and an index for `--kind`.

    Instant on a large file: the rows of version 1 keep their reprs with `result_format`
    NULL, and are read as JSON values where the repr is that of JSON data
    (`falyx.history_row.HistoryRow.read`).
    """
    conn.execute("ALTER TABLE history ADD COLUMN result_format TEXT")
    conn.execute("CREATE INDEX history_kind ON history (kind COLLATE NOCASE)")


#: Forward migrations: entry i brings the schema from version i to version i + 1.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migrate_1, _migrate_2]


def migrate(conn: sqlite3.Connection, timeout: float) -> None:
    """Switch to WAL and bring the schema up to date, under the write lock."""
    latest = len(MIGRATIONS)
    use_wal(conn, timeout)
    if _schema_version(conn) == latest:
        return
    with immediate(conn):
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        version = _schema_version(conn)  # again: another process may have migrated meanwhile
        if version > latest:
            raise sqlite3.DatabaseError(f"schema version {version} is newer than this falyx "
                                        f"knows ({latest})")
        for migration in MIGRATIONS[version:]:
            migration(conn)
        conn.execute("DELETE FROM schema_version")
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (latest,))


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, taking the write lock up front (waits up to the timeout)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:  # SQLite may already have rolled back (disk full)
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def use_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Enable WAL; the switch fails at once (no busy wait) while another process opens."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.002)


def _schema_version(conn: sqlite3.Connection) -> int:
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_version'").fetchone():
        return 0
    return conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0
