"""Cancellation on every entry point, with real signals sent to real CLI processes.

The app is `tests/apps/ops_app.py`; each test waits for a line of output, never a sleep.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, subprocess_env

pytestmark = pytest.mark.slow

OPS = ROOT / "tests" / "apps" / "ops_app.py"
TIMEOUT = 30


class Cli:
    """A running `ops_app.py` whose stdout and stderr are read line by line as they come."""

    def __init__(self, *args: str, new_session: bool = False, **env: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(OPS), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=subprocess_env(**env), cwd=ROOT, start_new_session=new_session,
        )
        self.seen = {"out": b"", "err": b""}

    def wait_for(self, text: str, stream: str = "out") -> None:
        """Read until `text` has appeared on the stream (fails after TIMEOUT seconds)."""
        pipes = {"out": self.proc.stdout, "err": self.proc.stderr}
        deadline = time.monotonic() + TIMEOUT
        while text.encode() not in self.seen[stream]:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {text!r} within {TIMEOUT}s: {self.seen}"
            ready, _, _ = select.select(list(pipes.values()), [], [], remaining)
            for name, pipe in pipes.items():
                if pipe in ready:
                    chunk = os.read(pipe.fileno(), 65536)  # type: ignore[union-attr]
                    assert chunk or name != stream, f"exited before {text!r}: {self.seen}"
                    self.seen[name] += chunk

    def signal(self, signum: int, group: bool = False) -> None:
        if group:
            os.killpg(self.proc.pid, signum)
        else:
            self.proc.send_signal(signum)

    def finish(self) -> tuple[int, str, str]:
        """Exit code, and everything written to stdout and stderr."""
        try:
            out, err = self.proc.communicate(timeout=TIMEOUT)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        return (self.proc.returncode, (self.seen["out"] + out).decode(),
                (self.seen["err"] + err).decode())


def history(db: Path) -> list[dict]:
    done = subprocess.run([sys.executable, str(OPS), "--history", str(db), "history", "--json"],
                          capture_output=True, text=True, env=subprocess_env(), timeout=TIMEOUT,
                          cwd=ROOT, check=True)
    return json.loads(done.stdout)


# -- run-all is cancelled as a whole ------------------------------------------------------
@pytest.mark.parametrize(("signum", "code", "word"), [
    (signal.SIGTERM, 143, "Terminated"), (signal.SIGINT, 130, "Interrupted")])
def test_a_signal_during_run_all_cancels_every_command_and_each_rolls_back(
    tmp_path: Path, signum: int, code: int, word: str
) -> None:
    db = tmp_path / "h.db"
    cli = Cli("--history", str(db), "run-all", "-t", "batch", "--json")
    cli.wait_for("A waiting")
    cli.wait_for("B waiting")
    cli.signal(signum)
    status, out, err = cli.finish()

    assert status == code
    lines = out.splitlines()
    assert {"A rolled back", "B rolled back"} <= set(lines)
    outcomes = [json.loads(line) for line in lines if line.startswith("{")]
    assert sorted((o["command"], o["status"]) for o in outcomes) == [
        ("A", "CANCELLED"), ("B", "CANCELLED")]
    assert f"{word} [A job-a]." in err and f"{word} [B job-b]." in err
    assert "Traceback" not in err
    commands = {r["name"]: r["status"] for r in history(db) if r["kind"] == "Command"}
    assert commands == {"Job A": "CANCELLED", "Job B": "CANCELLED"}


def test_run_all_checks_every_confirmation_before_running_anything() -> None:
    status, out, err = Cli("run-all", "-t", "gated").finish()

    assert status == 2
    assert out == ""  # 'quick' (no confirmation needed) did not run either
    assert "needs confirmation" in err and "-y" in err


def test_run_all_with_skip_confirm_runs_every_command() -> None:
    status, out, _ = Cli("run-all", "-t", "gated", "-y").finish()

    assert status == 0
    assert sorted(out.splitlines()) == ["gated done", "quick done"]


# -- a failed rollback is visible ----------------------------------------------------------
def test_a_failed_rollback_exits_3_and_lists_its_errors_in_the_json() -> None:
    status, out, err = Cli("run", "U", "--json").finish()

    assert status == 3
    *printed, last = out.splitlines()
    assert printed == ["built", "tested", "untested"]
    outcome = json.loads(last)
    assert outcome["status"] == "ERROR" and outcome["error"] == "RuntimeError: deploy failed"
    assert outcome["rollback_errors"] == ["OSError: disk full"]
    logged = err.splitlines()
    assert [line.split("] ", 1)[1] for line in logged[:2]] == [
        "WARNING  [test] Rolled back after 'deploy' failed",
        "ERROR    [build] Rollback failed: OSError: disk full",
    ]
    assert logged[2:] == ["Error: RuntimeError: deploy failed"]


def test_a_cancelled_run_keeps_its_signal_code_when_the_rollback_fails() -> None:
    cli = Cli("run", "V", "--json")
    cli.wait_for("V waiting")
    cli.signal(signal.SIGINT)
    status, out, err = cli.finish()

    assert status == 130
    outcome = json.loads(out.splitlines()[-1])
    assert outcome["status"] == "CANCELLED"
    assert outcome["rollback_errors"] == ["OSError: disk full"]
    assert "ERROR    [build] Rollback failed: OSError: disk full" in err


def test_a_clean_rollback_keeps_exit_1_and_has_no_rollback_errors() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "decorators.py"), "run", "R",
                           "-y", "--json"], capture_output=True, text=True, timeout=TIMEOUT,
                          env=subprocess_env(FAIL_DEPLOY="1"), cwd=ROOT)
    assert done.returncode == 1
    outcome = json.loads(done.stdout.splitlines()[-1])
    assert "rollback_errors" not in outcome and outcome["status"] == "ERROR"


# -- a second and a third Ctrl-C -----------------------------------------------------------
def test_second_ctrl_c_warns_and_third_aborts_the_rest_of_the_rollback(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    cli = Cli("--history", str(db), "run", "S")
    cli.wait_for("third waiting")
    cli.signal(signal.SIGINT)
    cli.wait_for("undoing second")  # the rollback of 'second' hangs
    cli.signal(signal.SIGINT)
    cli.wait_for("Rolling back… (Ctrl-C again to abort the rollback)", "err")
    cli.signal(signal.SIGINT)
    status, out, err = cli.finish()

    assert status == 130
    assert "undid first" not in out  # aborted before its turn
    assert err.splitlines()[-1] == "Interrupted."
    rollbacks = [(r["name"], r["status"]) for r in history(db) if r["kind"] == "Rollback"]
    assert rollbacks == [("second", "CANCELLED"), ("first", "CANCELLED")]


def test_a_second_signal_alone_lets_the_rollback_finish() -> None:
    cli = Cli("run-all", "-t", "batch")
    cli.wait_for("A waiting")
    cli.wait_for("B waiting")
    cli.signal(signal.SIGINT)
    cli.wait_for("B rolled back")
    cli.wait_for("A rolled back")
    cli.signal(signal.SIGINT)  # nothing left to abort: the run ends as interrupted
    status, _, err = cli.finish()

    assert status == 130
    assert "Traceback" not in err


# -- errors name their command; JSON logs ---------------------------------------------------
def test_run_all_errors_name_the_command_and_json_logs_stay_json() -> None:
    status, out, err = Cli("--log-format", "json", "run-all", "-t", "undo", "--json").finish()

    assert status == 3
    objects = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [o["command"] for o in objects] == ["U"]
    records = [json.loads(line) for line in err.splitlines()]  # every stderr line is JSON
    assert [(r["level"], r["event"]) for r in records] == [
        ("WARNING", "rollback"), ("ERROR", "rollback_failed"), ("ERROR", "failed")]
    assert records[-1]["message"] == "Error [U undo-fails]: RuntimeError: deploy failed"
    assert records[-1]["action"] == "U"
