"""The CLI as a real process: exit codes, signals during a run, and a real terminal prompt."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest

from tests.conftest import ROOT, subprocess_env

pytestmark = pytest.mark.slow

SIMPLE = ROOT / "examples" / "simple.py"
DECORATORS = ROOT / "examples" / "decorators.py"
PROMPT = "Confirm execution of R — Run My Pipeline (calls `my_pipeline`)"
SUCCEEDING_SEED = "2"  # with this seed every flaky step of simple.py succeeds first time
TIMEOUT = 30


def run(script: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True,
        env=subprocess_env(**env), timeout=TIMEOUT, cwd=ROOT,
    )


def start(script: Path, *args: str, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(script), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=subprocess_env(**env), cwd=ROOT,
    )


def read_stdout_until(proc: subprocess.Popen[bytes], marker: bytes) -> bytes:
    """What the child wrote to stdout up to and including `marker` (no sleeping, no guessing)."""
    assert proc.stdout is not None
    fd, seen = proc.stdout.fileno(), b""
    deadline = time.monotonic() + TIMEOUT
    while marker not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {marker!r} on stdout within {TIMEOUT}s: {seen!r}"
        if select.select([fd], [], [], remaining)[0]:
            chunk = os.read(fd, 4096)
            if not chunk:
                _, err = proc.communicate(timeout=TIMEOUT)
                raise AssertionError(f"exited before {marker!r}: {seen!r} {err!r}")
            seen += chunk
    return seen


def signal_at_line(proc: subprocess.Popen[bytes], line: bytes,
                   signum: int) -> tuple[bytes, bytes]:
    """Send `signum` once the child has printed `line`; all it wrote to stdout and stderr by
    its exit (it is killed if it outlives TIMEOUT)."""
    try:
        before = read_stdout_until(proc, line)
        proc.send_signal(signum)
        after, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return before + after, err


# -- exit codes ------------------------------------------------------------------------
def test_simple_example_runs_headless_with_skip_confirm() -> None:
    result = run(SIMPLE, "run", "r", "-y", FALYX_DEMO_SEED=SUCCEEDING_SEED)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\nok\n"
    assert result.stderr == ""


def test_unknown_key_exits_2_from_a_real_process() -> None:
    result = run(DECORATORS, "run", "RR")

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == "Error: unknown command 'RR'; did you mean 'R'?"


def test_failing_step_rolls_back_and_exits_1() -> None:
    result = run(DECORATORS, "run", "R", "-y", FAIL_DEPLOY="1")

    assert result.returncode == 1
    assert result.stdout == "built prod\ntests passed\nrolled back build of prod\n"
    warning, error = result.stderr.splitlines()
    assert warning.endswith("WARNING  [build] Rolled back after 'deploy' failed")
    assert error == "Error: RuntimeError: deploy to staging failed"


def test_retried_step_recovers_and_logs_the_retry_as_json() -> None:
    result = run(DECORATORS, "-v", "--log-format", "json", "build", "--target", "qa",
                 "--retry-delay", "0", FAIL_BUILD="1")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "build attempt 1 failed\nbuilt qa\n"
    records = [json.loads(line) for line in result.stderr.splitlines()]
    records = [r for r in records if r["level"] != "DEBUG"]  # -v's run-level lines
    assert [(r["level"], r["event"], r["attempt"]) for r in records] == [
        ("INFO", "retry", 1), ("WARNING", "retry_succeeded", 2)]
    assert records[0]["message"].startswith("[build] Retrying (1/2) in ")
    assert records[0]["message"].endswith("s due to 'build of qa failed'...")


# -- signals ---------------------------------------------------------------------------
@pytest.mark.parametrize(("signum", "code", "line"), [
    (signal.SIGINT, 130, "Interrupted."),
    (signal.SIGTERM, 143, "Terminated."),
])
def test_signal_during_a_chain_rolls_back_and_exits_with_its_code(
    signum: signal.Signals, code: int, line: str
) -> None:
    proc = start(DECORATORS, "run", "R", "-y", SLOW_DEPLOY="1")
    out, err = signal_at_line(proc, b"deploying...\n", signum)

    assert proc.returncode == code
    assert out.decode() == (
        "built prod\ntests passed\ndeploying...\nrolled back build of prod\n")
    warning, last = err.decode().splitlines()  # no traceback
    assert warning.endswith("WARNING  [build] Rolled back after cancellation")
    assert last == line


# -- a real terminal -------------------------------------------------------------------
def spawn_confirm() -> pexpect.spawn:
    child = pexpect.spawn(
        sys.executable, [str(SIMPLE), "run", "r"], cwd=str(ROOT), encoding="utf-8",
        timeout=TIMEOUT, dimensions=(24, 200),
        env=subprocess_env(FALYX_DEMO_SEED=SUCCEEDING_SEED, TERM="xterm",
                           PROMPT_TOOLKIT_NO_CPR="1"),
    )
    child.expect_exact("ChainedAction 'my_pipeline'")  # the preview comes first
    child.expect_exact(PROMPT)
    child.expect_exact(" [Y/n]")
    return child


def answer_confirm(answer: str) -> tuple[int, str]:
    """Answer the prompt; the exit status and everything the terminal showed afterwards."""
    child = spawn_confirm()
    child.send(answer)
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, child.before


def test_confirm_prompt_answered_yes_runs_the_command() -> None:
    status, shown = answer_confirm("y")

    assert status == 0
    assert shown.count("ok\r\n") == 2
    assert "Cancelled." not in shown


def test_confirm_prompt_answered_no_cancels_and_exits_1() -> None:
    status, shown = answer_confirm("n")

    assert status == 1
    assert shown.rstrip().endswith("Cancelled.")
    assert "ok\r\n" not in shown
