"""`SQLiteHistoryStore`: real SQLite files, real subprocesses, faults that never fail a run."""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from falyx import store as store_module
from falyx import store_schema as schema_module
from falyx.action import Action, ChainedAction
from falyx.action.options import RunOptions, using_options
from falyx.context import ExecutionContext
from falyx.history import ExecutionRegistry
from falyx.history_row import RESULT_CHARS
from falyx.store import HistoryRow, SQLiteHistoryStore, resolve_history_path
from tests.conftest import FakeSleep, subprocess_env

JSON_KEYS = ["index", "run_id", "parent", "command", "name", "kind", "start", "end",
             "duration", "status", "attempts", "result", "result_format", "error_type", "error",
             "traceback"]

# A child that writes `runs` runs of a 2-step chain (3 records each) into the store at argv[1];
# with argv[3], it says it is ready (argv[3].<pid>) and waits for the file argv[3] to start.
WRITER = """
import asyncio, os, sys, time
from falyx.action import ChainedAction
from falyx.action.options import RunOptions, using_options
from falyx.history import ExecutionRegistry
from falyx.store import SQLiteHistoryStore

store = SQLiteHistoryStore(sys.argv[1], "writer")
runs = int(sys.argv[2])  # 0: forever
if len(sys.argv) > 3:
    open(f"{sys.argv[3]}.{os.getpid()}", "w").close()
    while not os.path.exists(sys.argv[3]):
        time.sleep(0.001)

async def main():
    with using_options(RunOptions(registry=ExecutionRegistry(store=store), command="W")):
        done = 0
        while runs == 0 or done < runs:
            await ChainedAction("pipeline", [lambda: 1, lambda: "x" * 200])()
            done += 1
            if not store.enabled:
                sys.exit(f"store disabled: {store.error}")

asyncio.run(main())
"""


def boom() -> None:
    raise ValueError("bad input")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """In falyx's state dir (`$XDG_STATE_HOME/falyx`, set per test): the one folder falyx
    creates itself."""
    return tmp_path / "state" / "falyx" / "app.db"


@pytest.fixture
def store(db: Path) -> SQLiteHistoryStore:
    return SQLiteHistoryStore(db, "app")


@pytest.fixture
def run_with(fake_sleep: FakeSleep) -> Callable[..., Any]:
    """Run a step under a registry that persists to `store`; return (result or exception)."""

    async def run(store: SQLiteHistoryStore, step: Any, command: str = "deploy",
                  **options: Any) -> Any:
        registry = ExecutionRegistry(store=store)
        with using_options(RunOptions(registry=registry, command=command, sleep=fake_sleep,
                                      **options)):
            try:
                return await step()
            except Exception as exc:
                return exc

    return run


@pytest.fixture
def warnings_(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list[str]]]:
    """The WARNING messages logged on `falyx` so far."""
    caplog.set_level(logging.WARNING, logger="falyx")
    yield lambda: [r.getMessage() for r in caplog.records
                   if r.name == "falyx" and r.levelno == logging.WARNING]


def _record(name: str) -> ExecutionContext:
    return ExecutionContext(name, id=1, run_id=name, status="OK", attempts=1)


def _pipeline(name: str = "pipeline") -> ChainedAction:
    return ChainedAction(name, [Action("one", lambda: 1), Action("two", lambda: "two")])


def _python(code: str, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=subprocess_env(), timeout=120, **kwargs)


def _writer(db: Path, runs: int, *start: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(runs), *map(str, start)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=subprocess_env())


# -- round trip ---------------------------------------------------------------------------
async def test_runs_written_here_are_read_back_by_a_new_process(store, db, run_with) -> None:
    assert await run_with(store, _pipeline()) == "two"
    failing = ChainedAction("broken", [Action("ok", lambda: 1), Action("boom", boom)])
    assert isinstance(await run_with(store, failing, command="fix"), ValueError)

    reader = ("import json, sys\nfrom falyx.store import SQLiteHistoryStore\n"
              "s = SQLiteHistoryStore(sys.argv[1], 'app')\n"
              "print(json.dumps([r.as_json() for r in s.query(limit=None)]))")
    done = _python(reader, str(db))
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}

    assert all(list(row) == JSON_KEYS for row in rows.values())
    top, one = rows["pipeline"], rows["one"]
    assert (top["parent"], one["parent"], rows["two"]["parent"]) == (None, top["index"],
                                                                        top["index"])
    assert (top["command"], top["status"], top["kind"], top["result"], top["result_format"]) == (
        "deploy", "OK", "ChainedAction", "two", "json")
    assert (one["result"], one["result_format"]) == (1, "json")
    assert one["start"].endswith("+00:00") and one["run_id"] == top["run_id"]
    bad = rows["boom"]
    assert (bad["status"], bad["error_type"], bad["error"]) == ("ERROR", "ValueError",
                                                               "bad input")
    assert "raise ValueError" in bad["traceback"]
    assert bad["result"] is None and bad["result_format"] is None
    assert rows["broken"]["parent"] is None and rows["ok"]["parent"] == rows["broken"]["index"]


async def test_run_tree_lists_parents_before_children(store, run_with) -> None:
    inner = ChainedAction("inner", [Action("a", lambda: 1)])
    await run_with(store, ChainedAction("outer", [inner, Action("b", lambda: 2)]))
    top = store.last()
    assert top is not None
    assert [r.name for r in store.run_tree(top.run_id)] == ["outer", "inner", "a", "b"]


async def test_query_filters_and_returns_newest_last(store, run_with) -> None:
    for command in ("deploy", "build", "deploy"):
        await run_with(store, _pipeline(command), command=command)
    await run_with(store, ChainedAction("broken", [boom]), command="deploy")

    assert [r.name for r in store.query(limit=2)] == ["boom", "broken"]
    assert [r.name for r in store.query(status="error")] == ["boom", "broken"]
    assert [r.name for r in store.query(name="one")] == ["one"] * 3
    assert {r.command for r in store.query(command="BUILD")} == {"build"}
    assert store.count() == 11 and store.query(limit=0) == []
    last = store.last("Deploy")
    assert last is not None and last.name == "broken" and last.parent is None
    assert store.get(last.index) == last and store.get(10_000) is None
    assert store.query(run_id=last.run_id) == store.run_tree(last.run_id)[::-1]


def _at(name: str, start: float, kind: str = "Action", run_id: str = "r") -> ExecutionContext:
    return ExecutionContext(name, id=int(start * 10) + 1, run_id=run_id, kind=kind,
                            start=start, status="OK", attempts=1)


def test_query_filters_by_kind_in_any_case_and_by_start_time(store) -> None:
    store.write_run([_at("a", 100.0), _at("b", 200.0, "Rollback"), _at("c", 300.0, "Command")])
    assert [r.name for r in store.query(kind="rollback")] == ["b"]
    assert [r.name for r in store.query(kind="COMMAND")] == ["c"]
    assert store.query(kind="Chain") == []
    assert [r.name for r in store.query(since=200.0)] == ["b", "c"]
    assert [r.name for r in store.query(since=200.5, kind="command")] == ["c"]
    assert store.query(since=300.5) == []


def test_run_ids_are_found_by_any_prefix(store) -> None:
    for run_id in ("abc111", "abc222", "abd333"):
        store.write_run([_at("x", 1.0, run_id=run_id)])
    assert store.run_ids("abc") == ["abc111", "abc222"]
    assert store.run_ids("abd") == ["abd333"] and store.run_ids("abc2") == ["abc222"]
    assert store.run_ids("abc111") == ["abc111"]
    assert store.run_ids("b") == [] and store.run_ids("") == []
    assert store.run_ids("a", limit=5) == ["abc111", "abc222", "abd333"]


async def test_rollbacks_are_stored_as_their_own_kind_naming_the_step_they_undo(
    store, run_with
) -> None:
    def cannot_undo() -> None:
        raise OSError("cannot undo push")

    steps = [Action("build", lambda: "b", rollback=lambda: None),
             Action("push", lambda: "p", rollback=cannot_undo), Action("boom", boom)]
    await run_with(store, ChainedAction("deploy", steps))
    rows = {(r.kind, r.name): r for r in store.query(limit=None)}
    chain_row = rows[("ChainedAction", "deploy")]
    undone = [(r.name, r.status, r.error_type) for r in store.query(kind="Rollback")]
    assert undone == [("push", "ERROR", "OSError"), ("build", "OK", None)]
    for name in ("build", "push"):
        own, rollback = rows[("Action", name)], rows[("Rollback", name)]
        assert own.status == "OK" and own.value == name[0]
        assert rollback.parent == chain_row.index and rollback.result is None
        assert rollback.result_format is None


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=25))
def test_any_run_tree_keeps_its_shape(store, picks: list[int]) -> None:
    # node i > 0 hangs under an earlier node; records arrive children first, as in a run
    parents = [None, *(pick % (i + 1) for i, pick in enumerate(picks))]
    run_id, contexts = uuid.uuid4().hex, []
    for i, parent in enumerate(parents):
        contexts.append(ExecutionContext(
            f"s{i}", id=10_000 + i, run_id=run_id, start=float(i), status="OK",
            parent=None if parent is None else contexts[parent]))
    store.write_run(contexts[::-1])
    tree = store.run_tree(run_id)
    position = {row.name: n for n, row in enumerate(tree)}
    by_name = {row.name: row for row in tree}
    assert len(tree) == len(parents) and tree[0].name == "s0" and tree[0].parent is None
    for i, parent in enumerate(parents[1:], start=1):
        assert by_name[f"s{i}"].parent == by_name[f"s{parent}"].index
        assert position[f"s{parent}"] < position[f"s{i}"]


def test_filtered_queries_use_an_index_not_a_sort(store) -> None:
    store.write_run([_record("x")])
    with closing(sqlite3.connect(store.path)) as conn:
        for column in ("status", "name", "command", "run_id"):
            plan = " ".join(row[-1] for row in conn.execute(
                f"EXPLAIN QUERY PLAN SELECT * FROM history WHERE {column} = 'x' "
                "ORDER BY id DESC LIMIT 50"))
            assert f"INDEX history_{column}" in plan and "TEMP B-TREE" not in plan, plan
        plan = " ".join(row[-1] for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM history WHERE kind = 'x' COLLATE NOCASE "
            "ORDER BY id DESC LIMIT 50"))
        assert "INDEX history_kind" in plan and "TEMP B-TREE" not in plan, plan


# -- what is stored -----------------------------------------------------------------------
async def test_record_result_false_stores_no_result(store, run_with) -> None:
    secret = ChainedAction("c", [Action("secret", lambda: "hunter2", record_result=False),
                                 Action("public", lambda: "fine")])
    await run_with(store, secret)
    assert {r.name: (r.value, r.result_format) for r in store.query()} == {
        "secret": (None, None), "public": ("fine", "json"), "c": ("fine", "json")}
    await run_with(store, _pipeline("hidden"), record_result=False)
    assert all(r.result is None for r in store.query(run_id=store.last().run_id))


async def test_retried_then_recovered_step_has_no_stale_traceback(store, run_with) -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("try again")
        return "up"

    await run_with(store, Action("flaky", flaky, retry=3))
    await run_with(store, Action("rescued", boom, hooks={"error": lambda c: c.recover(42)}))
    flaky_row, rescued = store.query()
    assert (flaky_row.status, flaky_row.attempts, flaky_row.value) == ("OK", 3, "up")
    assert (rescued.status, rescued.value) == ("OK", 42)
    for row in (flaky_row, rescued):
        assert row.traceback is None and row.error is None and row.error_type is None


async def test_long_or_unrepresentable_results_are_bounded(store, run_with) -> None:
    class Weird:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    await run_with(store, Action("big", lambda: "x" * 50_000))
    await run_with(store, Action("weird", Weird))
    await run_with(store, Action("huge", lambda: 10**5000))  # repr() refuses > 4300 digits
    big, weird, huge = store.query()
    assert big.result is not None and len(big.result) <= RESULT_CHARS
    assert weird.result is not None and weird.result.startswith("<Weird instance at")
    assert huge.result is not None and huge.result.startswith(("<unrepresentable int", "1000"))
    assert {row.result_format for row in (big, weird, huge)} == {"repr"}


async def test_pruning_keeps_the_newest_max_rows(db, run_with) -> None:
    store = SQLiteHistoryStore(db, "app", max_rows=10)
    for _ in range(5):
        await run_with(store, _pipeline())  # 3 records each
    indices = [r.index for r in store.query(limit=None)]
    assert indices == list(range(6, 16)) and store.count() == 10
    store.clear()
    assert store.count() == 0
    await run_with(store, _pipeline())
    assert min(r.index for r in store.query()) == 16  # indices are never reused


# -- where the file goes, and how it is created -------------------------------------------
def test_history_path_override_wins_over_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("FALYX_HISTORY", str(tmp_path / "env.db"))
    assert resolve_history_path("app", str(tmp_path / "cli.db")) == tmp_path / "cli.db"
    assert resolve_history_path("app", "off") is None
    assert resolve_history_path("app") == tmp_path / "env.db"
    monkeypatch.setenv("FALYX_HISTORY", "OFF")
    assert resolve_history_path("app") is None
    assert resolve_history_path("app", "~/h.db") == Path.home() / "h.db"


def test_history_path_defaults_to_xdg_state_home(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("FALYX_HISTORY")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert resolve_history_path("deploy") == tmp_path / "state" / "falyx" / "deploy.db"
    assert resolve_history_path("🚀 Deploy/../tools").name == "Deploy_.._tools.db"
    assert resolve_history_path("../..").name == "falyx.db"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for unusable in ("", "relative/dir"):
        monkeypatch.setenv("XDG_STATE_HOME", unusable)
        expected = tmp_path / "home" / ".local" / "state" / "falyx" / "app.db"
        assert resolve_history_path("app") == expected


def test_store_opens_lazily_and_creates_private_folder_and_file(store, db) -> None:
    assert store.query() == [] and store.count() == 0 and not db.parent.exists()
    old = os.umask(0)  # explicit chmod, not the umask, must give 0700 / 0600
    try:
        store.write_run([_record("x")])
    finally:
        os.umask(old)
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_existing_folder_keeps_its_permissions(tmp_path) -> None:
    os.chmod(tmp_path, 0o755)
    SQLiteHistoryStore(tmp_path / "h.db", "app").write_run(
        [_record("x")])
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "h.db").stat().st_mode) == 0o600


# -- schema migrations --------------------------------------------------------------------
LATEST = len(schema_module.MIGRATIONS)
#: Results as schema 1 stored them (reprs), and what they are now: JSON values where the repr
#: is that of JSON data, else the repr kept as it was.
V1_RESULTS = [
    ("'two'", "two", "json"), ("42", 42, "json"), ("-1.5", -1.5, "json"),
    ("[1, 'a', None, True]", [1, "a", None, True], "json"),
    ("{'k': (1, 2.5), 'n': {}}", {"k": [1, 2.5], "n": {}}, "json"), ("None", None, "json"),
    ("{1, 2}", "{1, 2}", "repr"), ("{1: 'a'}", "{1: 'a'}", "repr"),
    ("[1, 2, ...]", "[1, 2, ...]", "repr"),  # reprlib cut a long list
    ("'xxxx…", "'xxxx…", "repr"),  # a string cut at the limit
    ("<Weird object at 0x7f3a>", "<Weird object at 0x7f3a>", "repr"),
    ("datetime.date(2026, 11, 30)", "datetime.date(2026, 11, 30)", "repr"), ("nan", "nan", "repr"),
]


def _version(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT version FROM schema_version").fetchone()[0]


def _file_at_version(db: Path, version: int) -> None:
    """A history file as falyx left it at schema `version` (0: versioned, no table yet)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for migration in schema_module.MIGRATIONS[:version]:
            migration(conn)
        conn.execute("INSERT INTO schema_version VALUES (?)", (version,))


def _insert_v1_rows(db: Path, results: list[str]) -> None:
    """Rows with the columns of schema 1 (every later schema has them too)."""
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.executemany(
            "INSERT INTO history (run_id, program, command, name, kind, start, status, attempts, "
            "result) VALUES ('old', 'app', 'B', ?, 'Action', 0.0, 'OK', 1, ?)",
            [(f"old{i}", text) for i, text in enumerate(results)])


@pytest.mark.parametrize("version", range(LATEST))
async def test_a_file_from_each_earlier_version_is_migrated_forward(db, run_with,
                                                                     version: int) -> None:
    _file_at_version(db, version)
    if version >= 1:
        _insert_v1_rows(db, ["'old result'"])
    store = SQLiteHistoryStore(db, "app")
    assert await run_with(store, _pipeline()) == "two"
    assert store.enabled and _version(db) == LATEST
    rows = store.query(limit=None)
    assert [r.name for r in rows][-3:] == ["one", "two", "pipeline"]
    assert rows[-1].value == "two" and rows[-1].result_format == "json"
    if version >= 1:
        assert (rows[0].name, rows[0].value, rows[0].result_format) == ("old0", "old result",
                                                                         "json")
    assert store.query(kind="chainedaction")[0].name == "pipeline"  # schema 2's kind index


async def test_a_version_0_file_keeps_its_other_tables(db, run_with) -> None:
    _file_at_version(db, 0)
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
        conn.execute("INSERT INTO notes VALUES ('kept')")
    store = SQLiteHistoryStore(db, "app")
    await run_with(store, _pipeline())
    assert store.enabled and store.count() == 3 and _version(db) == LATEST
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT text FROM notes").fetchall() == [("kept",)]


def test_version_1_results_become_json_values_where_they_are_json_data(db) -> None:
    _file_at_version(db, 1)
    _insert_v1_rows(db, [text for text, _, _ in V1_RESULTS])
    _insert_v1_rows(db, [None])  # type: ignore[list-item]  # record_result=False: no result
    with SQLiteHistoryStore(db, "app") as store:
        rows = store.query(limit=None)
    assert [(r.value, r.result_format) for r in rows[:-1]] == [
        (value, fmt) for _, value, fmt in V1_RESULTS]
    assert (rows[-1].result, rows[-1].result_format) == (None, None)
    assert _version(db) == LATEST
    with closing(sqlite3.connect(db)) as conn:  # the file is not rewritten: read as JSON
        assert conn.execute("SELECT result, result_format FROM history ORDER BY id "
                            "LIMIT 1").fetchone() == ("'two'", None)


def test_every_row_of_a_large_version_1_file_reads_as_json(db) -> None:
    _file_at_version(db, 1)
    _insert_v1_rows(db, [repr(f"r{i}") for i in range(2_500)])  # more than one batch
    with SQLiteHistoryStore(db, "app") as store:
        rows = store.query(limit=None)
    assert [r.value for r in rows] == [f"r{i}" for i in range(2_500)]
    assert {r.result_format for r in rows} == {"json"}


async def test_a_file_is_migrated_forward_by_a_later_falyx_keeping_its_rows(
    db, run_with, monkeypatch
) -> None:
    await run_with(SQLiteHistoryStore(db, "app"), _pipeline())

    def add_host(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE history ADD COLUMN host TEXT DEFAULT 'here'")

    monkeypatch.setattr(schema_module, "MIGRATIONS", [*schema_module.MIGRATIONS, add_host])
    store = SQLiteHistoryStore(db, "app")
    await run_with(store, _pipeline())
    assert _version(db) == LATEST + 1 and store.count() == 6 and store.enabled
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT DISTINCT host FROM history").fetchall() == [("here",)]


async def test_a_file_from_a_newer_falyx_is_left_alone(db, run_with, warnings_) -> None:
    await run_with(SQLiteHistoryStore(db, "app"), _pipeline())
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE schema_version SET version = 99")
    store = SQLiteHistoryStore(db, "app")
    assert await run_with(store, _pipeline()) == "two"
    assert not store.enabled and "newer" in warnings_()[0]
    assert _version(db) == 99


# -- faults never fail a run ------------------------------------------------------------
async def _assert_degrades(store: SQLiteHistoryStore, run_with, warnings_) -> str:
    """Three runs succeed; exactly one warning names the file and says memory only."""
    for _ in range(3):
        assert await run_with(store, _pipeline()) == "two"
    assert not store.enabled and store.query() == [] and store.count() == 0
    (message,) = warnings_()
    assert str(store.path) in message and "memory only" in message
    return message


async def test_corrupt_file_degrades_to_memory_with_one_warning(db, run_with,
                                                                warnings_) -> None:
    db.parent.mkdir(parents=True)
    db.write_bytes(os.urandom(8192))
    message = await _assert_degrades(SQLiteHistoryStore(db, "app"), run_with, warnings_)
    assert "not a database" in message


async def test_corrupt_file_found_by_a_query_also_warns_once(db, warnings_) -> None:
    db.parent.mkdir(parents=True)
    db.write_bytes(b"garbage" * 1000)
    store = SQLiteHistoryStore(db, "app")
    assert store.query() == [] and store.last() is None and store.run_tree("r") == []
    store.write_run([_record("x")])
    assert len(warnings_()) == 1 and db.read_bytes().startswith(b"garbage")


async def test_unwritable_location_degrades_to_memory(tmp_path, run_with, warnings_) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    store = SQLiteHistoryStore(tmp_path / "a-file" / "h.db", "app")
    assert "NotADirectoryError" in await _assert_degrades(store, run_with, warnings_)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores permission bits (see below)")
async def test_read_only_folder_degrades_to_memory(tmp_path, run_with, warnings_) -> None:
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    try:
        await _assert_degrades(SQLiteHistoryStore(folder / "h.db", "app"), run_with,
                               warnings_)
    finally:
        folder.chmod(0o700)


def _immutable(folder: Path, on: bool) -> bool:
    """Set or clear the immutable flag (which binds root too); False where unsupported."""
    flag = "+i" if on else "-i"
    try:
        return subprocess.run(["chattr", flag, str(folder)], capture_output=True).returncode == 0
    except OSError:
        return False


@pytest.mark.skipif(os.geteuid() != 0, reason="the test above covers non-root users")
async def test_unwritable_folder_degrades_to_memory_even_for_root(tmp_path, run_with,
                                                                   warnings_) -> None:
    """Root ignores permission bits, not the immutable flag: nothing can be created there."""
    folder = tmp_path / "frozen"
    folder.mkdir()
    if not _immutable(folder, True):
        pytest.skip("this file system has no immutable flag (chattr)")
    try:
        message = await _assert_degrades(SQLiteHistoryStore(folder / "h.db", "app"), run_with,
                                         warnings_)
        assert "Operation not permitted" in message or "PermissionError" in message
    finally:
        _immutable(folder, False)


async def test_lock_held_past_the_timeout_degrades(db, run_with, warnings_) -> None:
    await run_with(SQLiteHistoryStore(db, "app"), _pipeline())
    with closing(sqlite3.connect(db, isolation_level=None)) as other:
        other.execute("BEGIN EXCLUSIVE")
        store = SQLiteHistoryStore(db, "app", timeout=0.01)
        assert "locked" in await _assert_degrades(store, run_with, warnings_)
        other.execute("ROLLBACK")


async def test_full_disk_degrades(db, run_with, warnings_) -> None:
    store = SQLiteHistoryStore(db, "app")
    await run_with(store, _pipeline())
    conn = store._connection()  # SQLite's own SQLITE_FULL: cap the file at its current size
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
    big = ChainedAction("big", [Action(f"s{i}", lambda: "x" * 900) for i in range(50)])
    assert await run_with(store, big) == "x" * 900
    assert "database or disk is full" in warnings_()[0]
    assert store.count() == 0 and store._conn is None  # off, and its connection closed
    with SQLiteHistoryStore(db, "app") as fresh:
        assert fresh.count() == 3  # the failed run left nothing half-written


# -- several processes ----------------------------------------------------------------------
@pytest.mark.slow
def test_eight_processes_writing_at_once_lose_nothing(db, tmp_path) -> None:
    go = tmp_path / "go"
    writers = [_writer(db, 100, go) for _ in range(8)]
    deadline = time.monotonic() + 60  # all start together on a file none has created yet
    while len(list(tmp_path.glob("go.*"))) < 8 and time.monotonic() < deadline:
        time.sleep(0.005)
    go.touch()
    outcomes = [(w.wait(timeout=300), *w.communicate()) for w in writers]
    for code, _out, err in outcomes:
        assert code == 0 and "locked" not in err, err
    store = SQLiteHistoryStore(db, "app", max_rows=10_000)
    top = store.query(name="pipeline", limit=None)
    assert len({row.run_id for row in top}) == 800 and store.count() == 2400
    assert all(len(store.run_tree(row.run_id)) == 3 for row in top[::50])


@pytest.mark.slow
def test_kill_9_mid_write_leaves_a_readable_database(db) -> None:
    writer = _writer(db, 0)
    store = SQLiteHistoryStore(db, "app")
    deadline = time.monotonic() + 60
    try:
        while store.count() < 300 and time.monotonic() < deadline:
            assert writer.poll() is None, writer.communicate()
            time.sleep(0.005)  # polling the row count, not waiting a fixed time
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.communicate()
    assert writer.returncode == -signal.SIGKILL
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = store.query(limit=None)
    assert len(rows) >= 300 and len(rows) % 3 == 0  # whole runs only
    store.write_run([_record("after")])
    assert store.enabled and store.last().name == "after"


async def test_store_serves_worker_threads_and_reopens_after_close(store, run_with) -> None:
    await run_with(store, _pipeline())
    assert len(await asyncio.to_thread(store.query)) == 3
    store.close()
    await asyncio.to_thread(store.write_run, [_record("later")])
    with store:
        assert store.count() == 4 and store.enabled
    assert store._conn is None


def _write_in_child(store: SQLiteHistoryStore) -> None:
    store.write_run([_record("child")])
    own = store._pid == os.getpid() and len(store_module._inherited) == 1
    os._exit(0 if store.enabled and own else 1)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_a_forked_child_never_uses_the_parents_connection(store) -> None:
    store.write_run([_record("parent")])
    child = multiprocessing.get_context("fork").Process(target=_write_in_child, args=(store,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    store.write_run([_record("parent again")])
    assert [r.name for r in store.query()] == ["parent", "child", "parent again"]


class _SwitchLockedTwice:
    """A connection whose WAL switch reports 'locked' twice, as when a peer creates the file."""

    def __init__(self, error: str = "database is locked") -> None:
        self.error, self.calls = error, 0

    def execute(self, sql: str) -> None:
        self.calls += 1
        if self.calls <= 2:
            raise sqlite3.OperationalError(self.error)


def test_wal_switch_is_retried_while_another_process_creates_the_file() -> None:
    # SQLite answers the switch with SQLITE_BUSY without its busy wait when several processes
    # open a brand-new file at once (seen with 16 processes: ~1 start in 10 lost its history).
    conn = _SwitchLockedTwice()
    schema_module.use_wal(conn, timeout=5)  # type: ignore[arg-type]
    assert conn.calls == 3
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        schema_module.use_wal(_SwitchLockedTwice(), timeout=-1)  # type: ignore[arg-type]
    corrupt = _SwitchLockedTwice("file is not a database")
    with pytest.raises(sqlite3.OperationalError, match="not a database"):
        schema_module.use_wal(corrupt, timeout=5)  # type: ignore[arg-type]
    assert corrupt.calls == 1


def test_importing_the_store_stays_cheap() -> None:
    done = _python("import sys, falyx.store\n"
                   "print(sorted({m.split('.')[0] for m in sys.modules}))")
    loaded = set(json.loads(done.stdout.replace("'", '"')))
    assert "sqlite3" in loaded
    assert loaded.isdisjoint({"rich", "typer", "click", "questionary", "tenacity", "yaml"})


def test_history_row_as_json_has_exactly_the_documented_keys() -> None:
    row = HistoryRow(1, "r", None, "app", None, "x", "Action", 0.0, None, None, "OK", 1,
                     '["a", 1]', "json", None, None, None)
    assert list(row.as_json()) == JSON_KEYS
    assert row.as_json()["start"] == "1970-01-01T00:00:00+00:00"
    assert row.as_json()["end"] is None
    assert row.as_json()["result"] == ["a", 1]
