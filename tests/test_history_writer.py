"""Finished runs are written off the event loop, in order, and before the process exits.

The locked-file tests use a real second process holding SQLite's lock for 2 s.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from falyx import Falyx
from falyx import history as history_module
from falyx.action import Action, ActionGroup, ChainedAction
from falyx.action.options import RunOptions, using_options
from falyx.context import ExecutionContext
from falyx.history import ExecutionRegistry
from falyx.runner import RunRequest, Session, execute
from falyx.store import SQLiteHistoryStore
from tests.conftest import ROOT, subprocess_env

LOCK_SECONDS = 2.0
TICK = 0.05
# Holds the write lock of argv[1] for argv[2] seconds; touches argv[3] once it holds it and
# argv[4] just before it lets go.
LOCKER = """
import pathlib, sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
pathlib.Path(sys.argv[3]).touch()
time.sleep(float(sys.argv[2]))
pathlib.Path(sys.argv[4]).touch()
conn.execute("ROLLBACK")
"""


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 60) -> None:
    """Poll until `path` exists (the other process says it is ready)."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.005)


class Locker:
    """A second process holding the database's write lock for `LOCK_SECONDS`."""

    def __init__(self, db: Path) -> None:
        self.locked, self.releasing = db.with_suffix(".locked"), db.with_suffix(".releasing")
        self.process = subprocess.Popen(
            [sys.executable, "-c", LOCKER, str(db), str(LOCK_SECONDS), str(self.locked),
             str(self.releasing)], env=subprocess_env(), stderr=subprocess.PIPE, text=True)
        _wait_for(self.locked, self.process)

    def finish(self) -> None:
        _, err = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, err


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A history file that already exists (in WAL mode, at the current schema)."""
    path = tmp_path / "locked.db"
    with SQLiteHistoryStore(path, "app") as store:
        store.write_run([ExecutionContext("seed", id=1, run_id="seed", status="OK",
                                          attempts=1)])
    return path


@pytest.fixture
def locker(db: Path) -> Iterator[Locker]:
    held = Locker(db)
    yield held
    held.finish()


async def test_a_store_locked_by_another_process_never_blocks_the_loop(db, locker) -> None:
    app = Falyx("locked", program="locked")
    app.registry.store = SQLiteHistoryStore(db, "locked")
    group = ActionGroup("checks", [Action("lint", lambda: "clean"),
                                   Action("types", lambda: "typed")])
    app.add_command("G", "Checks", group, spinner=True)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(TICK)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:  # the CLI's own path: spinner (on a terminal), signals, outcome
        code = await execute(app, RunRequest(app.get("G"), skip_confirm=True), Session())
    finally:
        ticker.cancel()
    top = app.registry.latest()
    assert code == 0 and top is not None
    assert top.result == [("lint", "clean"), ("types", "typed")]
    assert locker.releasing.exists()  # the run ended once the lock was let go: written
    # ~40 ticks while the write waited 2 s on the lock; a blocked loop would allow ~1.
    assert ticks >= 10, ticks
    stored = [r.name for r in app.registry.store.query(command="G")]
    # the members run concurrently (in threads): either may be recorded first
    assert sorted(stored[:2]) == ["lint", "types"] and stored[2:] == ["checks", "Checks"]


def _app_process(db: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "decorators.py"), *args],
        env=subprocess_env(FALYX_HISTORY=str(db), **env), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)


def _stored(db: Path, command: str) -> list[tuple[str, str, str]]:
    with SQLiteHistoryStore(db, "reader") as store:
        return [(r.kind, r.name, r.status) for r in store.query(command=command, limit=None)]


@pytest.mark.slow
def test_the_process_exits_only_after_its_run_is_written(db, tmp_path) -> None:
    held = Locker(db)
    app = _app_process(db, "run", "T", "--json")
    out, err = app.communicate(timeout=120)
    held.finish()
    assert app.returncode == 0, err
    assert json.loads(out.splitlines()[-1])["status"] == "OK"
    assert held.releasing.exists()
    assert _stored(db, "T") == [("Action", "test", "OK"),
                                ("Command", "Run the test suite.", "OK")]


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_run_is_still_written_before_the_process_exits(db, signum,
                                                                      code) -> None:
    app = _app_process(db, "run", "R", "-y", SLOW_DEPLOY="1")
    assert app.stdout is not None
    for expected in ("built prod\n", "tests passed\n", "deploying...\n"):
        assert app.stdout.readline() == expected
    held = Locker(db)
    app.send_signal(signum)
    out, err = app.communicate(timeout=120)
    held.finish()
    assert app.returncode == code, err
    assert "rolled back build of prod" in out
    stored = _stored(db, "R")
    assert ("Command", "Release", "CANCELLED") in stored
    assert ("Rollback", "build", "OK") in stored


WRITE_AND_EXIT = """
import sys
from falyx.context import ExecutionContext
from falyx.history import ExecutionRegistry
from falyx.runner import RunRequest, Session, execute
from falyx.store import SQLiteHistoryStore

registry = ExecutionRegistry(store=SQLiteHistoryStore(sys.argv[1], "bare"))
registry.record(ExecutionContext("unawaited", id=1, run_id="u1", status="OK", attempts=1))
print("recorded", flush=True)  # then exit at once: nothing awaited the write
"""


@pytest.mark.slow
def test_a_write_nobody_awaited_is_finished_at_exit(db) -> None:
    held = Locker(db)
    done = subprocess.run([sys.executable, "-c", WRITE_AND_EXIT, str(db)], env=subprocess_env(),
                          capture_output=True, text=True, timeout=120)
    held.finish()
    assert (done.returncode, done.stdout, done.stderr) == (0, "recorded\n", "")
    with SQLiteHistoryStore(db, "reader") as store:
        assert [r.name for r in store.query(run_id="u1")] == ["unawaited"]


# -- the writer in one process ---------------------------------------------------------------
class GateStore:
    """Records which thread wrote each run; holds every write until `gate` is set."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.runs: list[tuple[str, list[str]]] = []

    def write_run(self, records: Sequence[ExecutionContext]) -> None:
        self.gate.wait(timeout=30)
        self.runs.append((threading.current_thread().name, [r.name for r in records]))


def _chain(name: str) -> ChainedAction:
    return ChainedAction(name, [Action(f"{name}.1", lambda: 1), Action(f"{name}.2", lambda: 2)])


async def test_runs_are_written_by_the_writer_thread_in_finishing_order() -> None:
    store = GateStore()
    store.gate.set()
    first, second = ExecutionRegistry(store=store), ExecutionRegistry(store=store)
    for registry, name in ((first, "a"), (second, "b"), (first, "c")):
        with using_options(RunOptions(registry=registry)):
            await _chain(name)()
    assert store.runs == [("falyx-history-writer", ["a.1", "a.2", "a"]),
                          ("falyx-history-writer", ["b.1", "b.2", "b"]),
                          ("falyx-history-writer", ["c.1", "c.2", "c"])]


async def test_a_run_returns_once_written_and_a_cancelled_wait_never_drops_the_write() -> None:
    store = GateStore()
    registry = ExecutionRegistry(store=store)

    async def run() -> int:
        with using_options(RunOptions(registry=registry)):
            return await _chain("slow")()

    task = asyncio.ensure_future(run())
    while not registry.writing:  # the chain finished; its write waits at the gate
        await asyncio.sleep(0)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert registry.writing and store.runs == []
    store.gate.set()
    await asyncio.to_thread(registry.flush, 30)
    assert store.runs == [("falyx-history-writer", ["slow.1", "slow.2", "slow"])]
    assert not registry.writing


def test_flush_waits_for_the_writes_of_sync_callers() -> None:
    store = GateStore()
    registry = ExecutionRegistry(store=store)
    registry.record(ExecutionContext("sync", id=1, run_id="s", status="OK", attempts=1))
    assert registry.writing
    store.gate.set()
    registry.flush(timeout=30)
    assert store.runs == [("falyx-history-writer", ["sync"])] and not registry.writing


def test_run_count_counts_command_runs_not_steps() -> None:
    app = Falyx("count", program="count")
    app.add_command("C", "Chain", _chain("c"))
    for _ in range(3):
        asyncio.run(app.run_key("C"))
    assert app.registry.run_count == 3 and len(app.registry) == 12
    app.registry.clear()
    assert app.registry.run_count == 3  # commands run this session, whatever was cleared


def test_when_no_thread_can_start_the_write_happens_at_once(monkeypatch) -> None:
    """As at interpreter shutdown (Python 3.12+ refuses new threads then)."""

    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't create new thread at interpreter shutdown")

    writer = history_module._Writer()
    monkeypatch.setattr(threading.Thread, "start", refuse)
    written: list[str] = []
    done = writer.submit(lambda: written.append("run"))
    assert done.done() and written == ["run"]
