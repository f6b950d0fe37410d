"""Signals sent to a real CLI process while a sync step's (or rollback's) thread runs.

The app is `tests/apps/threads_app.py`; its blocked functions return when the test writes
to a FIFO (`GATE`), so every ordering here is decided by the test, never by a sleep.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import test_runner_signals as signals
from tests.conftest import ROOT, subprocess_env

pytestmark = pytest.mark.slow

APP = ROOT / "tests" / "apps" / "threads_app.py"
TIMEOUT = signals.TIMEOUT


class Cli(signals.Cli):
    """`threads_app.py` running, read line by line (see `tests.test_runner_signals.Cli`)."""

    def __init__(self, *args: str, **env: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(APP), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=subprocess_env(**env), cwd=ROOT)
        self.seen = {"out": b"", "err": b""}


def release(gate: Path) -> None:
    """Let the blocked function return (it opens the FIFO to read: opening it to write waits
    for that, in a daemon thread, so an app that never opens it fails the test, not hangs it)."""

    def write() -> None:
        with open(gate, "w") as fifo:
            fifo.write("go")

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    writer.join(TIMEOUT)
    assert not writer.is_alive(), "the blocked function never opened its gate"


def history(db: Path) -> list[dict]:
    done = subprocess.run([sys.executable, str(APP), "--history", str(db), "history", "--json"],
                          capture_output=True, text=True, env=subprocess_env(), timeout=TIMEOUT,
                          cwd=ROOT, check=True)
    return json.loads(done.stdout)


@pytest.fixture
def start() -> Iterator[Callable[..., Cli]]:
    """Start `threads_app.py`; whatever happens in the test, no process outlives it."""
    started: list[Cli] = []

    def launch(*args: str, **env: str) -> Cli:
        started.append(Cli(*args, **env))
        return started[-1]

    yield launch
    for cli in started:
        if cli.proc.poll() is None:
            cli.proc.kill()
            cli.proc.wait()


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    path = tmp_path / "gate"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(("signum", "code", "reason"), [
    (signal.SIGINT, 130, "Interrupted (SIGINT)"), (signal.SIGTERM, 143, "Terminated (SIGTERM)")])
def test_a_signal_waits_for_the_sync_step_thread_then_rolls_back_and_records_why(
    tmp_path: Path, gate: Path, start: Callable[..., Cli], signum: int, code: int, reason: str
) -> None:
    db = tmp_path / "h.db"
    cli = start("--history", str(db), "run", "M", "--json", GATE=str(gate))
    cli.wait_for("migrate started")
    cli.signal(signum)
    cli.wait_for(f"[migrate] {reason[0].lower()}{reason[1:]}; its thread cannot be stopped, "
                 "waiting for it to return before rolling back", "err")
    release(gate)
    status, out, _ = cli.finish()

    assert status == code
    lines = out.splitlines()
    assert lines[:4] == ["created db", "migrate started", "migrate finished", "dropped db"]
    outcome = json.loads(lines[-1])
    assert (outcome["status"], outcome["error"]) == ("CANCELLED", f"CancelledError: {reason}")
    assert "rollback_aborted" not in outcome
    records = {(r["kind"], r["name"]): (r["status"], r["error"]) for r in history(db)}
    assert records[("Action", "migrate")] == ("CANCELLED", reason)
    assert records[("Command", "Migrate")] == ("CANCELLED", reason)
    assert records[("Rollback", "create")] == ("OK", None)


def test_a_third_ctrl_c_stops_waiting_for_the_thread_and_the_process_exits(
    tmp_path: Path, start: Callable[..., Cli]
) -> None:
    db = tmp_path / "h.db"
    cli = start("--history", str(db), "run", "M", "--json")  # no gate: migrate never returns
    cli.wait_for("migrate started")
    cli.signal(signal.SIGINT)
    cli.wait_for("waiting for it to return before rolling back", "err")
    cli.signal(signal.SIGINT)
    cli.wait_for("Waiting for 'migrate' to return", "err")
    aborted = time.monotonic()
    cli.signal(signal.SIGINT)
    status, out, err = cli.finish()  # a hang on the thread fails here, after TIMEOUT
    exit_seconds = time.monotonic() - aborted

    assert status == 130
    assert "dropped db" not in out and "migrate finished" not in out
    outcome = json.loads(out.splitlines()[-1])
    assert outcome["status"] == "CANCELLED" and outcome["rollback_aborted"] is True
    assert outcome["error"] == ("CancelledError: Interrupted (SIGINT); step 'migrate' abandoned "
                                "while running in its thread")
    assert "[migrate] no longer waiting (aborted): its thread is left running" in err
    assert "Traceback" not in err and err.splitlines()[-1] == "Interrupted."
    rollback = next(r for r in history(db) if r["kind"] == "Rollback")
    assert (rollback["name"], rollback["status"], rollback["attempts"], rollback["error"]) == (
        "create", "CANCELLED", 0, "rollback aborted before it started")
    print(f"exit {exit_seconds:.2f}s after the third SIGINT")  # shown with -s; not judged


def test_an_aborted_sync_rollback_is_recorded_abandoned_and_the_process_exits(
    tmp_path: Path, start: Callable[..., Cli]
) -> None:
    db = tmp_path / "h.db"
    cli = start("--history", str(db), "run", "U", "--json")  # no gate: undo_b never returns
    cli.wait_for("c waiting")
    cli.signal(signal.SIGINT)
    cli.wait_for("undoing b")
    cli.signal(signal.SIGINT)
    cli.wait_for("Rolling back…", "err")
    cli.signal(signal.SIGINT)
    status, out, _ = cli.finish()

    assert status == 130
    assert "undid b" not in out and "dropped db" not in out
    assert json.loads(out.splitlines()[-1])["rollback_aborted"] is True
    rollbacks = [(r["name"], r["status"], r["error"]) for r in history(db)
                 if r["kind"] == "Rollback"]
    assert rollbacks == [
        ("b", "CANCELLED", "rollback abandoned while running in its thread (a thread cannot be "
                           "stopped)"),
        ("a", "CANCELLED", "rollback aborted before it started"),
    ]
