"""Process steps from the command line: prompt exits, launchers, the main guard, --executor."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import helpers_process as work
from tests.conftest import ROOT, subprocess_env
from tests.test_runner_signals import OPS, TIMEOUT, Cli

pytestmark = pytest.mark.slow

APP = '''\
import os
from falyx import Falyx
from falyx.action import ProcessAction

app = Falyx("Launch")


def where() -> int:
    return os.getpid()


app.add_command("P", "Process", ProcessAction("where", where))
'''


def run(*argv: str, cwd: Path = ROOT, **env: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd,
                          env=subprocess_env(FALYX_HISTORY="off", **env))
    return done, time.monotonic() - started


def pid_gone_soon(pid: int) -> bool:
    """Whether process `pid` stops running (gone, or a zombie) within TIMEOUT seconds."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            if ") Z" in Path(f"/proc/{pid}/stat").read_text():
                return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        time.sleep(0.01)
    return False


# -- timeout and cancel stop the work, the CLI exits promptly -----------------------------
def test_a_timed_out_process_step_ends_the_cli_at_once(tmp_path: Path) -> None:
    done, _ = run(sys.executable, str(OPS), "run", "T", MARKERS=str(tmp_path))
    exited = time.time()

    assert done.returncode == 1
    assert done.stderr.strip() == "Error: StepTimeoutError: step 'spin' timed out after 1s"
    pid, started = work.marked(tmp_path / "spin")
    assert exited - (started + 1.0) < 5.0  # within kill_grace of the timeout (~0 s: interrupted)
    assert pid_gone_soon(pid)


def test_a_deaf_process_step_is_killed_after_kill_grace(tmp_path: Path) -> None:
    done, _ = run(sys.executable, str(OPS), "run", "D", MARKERS=str(tmp_path), KILL_GRACE="1")
    exited = time.time()

    assert done.returncode == 1
    assert "timed out after 1s" in done.stderr
    pid, started = work.marked(tmp_path / "deaf")
    # Only killing its worker ends this task, so the CLI's exit proves the kill; it came
    # within kill_grace (1 s) of the timeout, plus slack for a loaded machine.
    assert exited - (started + 1.0) < 1.0 + 2.0
    assert pid_gone_soon(pid)


@pytest.mark.parametrize("group", [False, True], ids=["to the driver", "to the process group"])
def test_ctrl_c_during_a_process_step_rolls_back_and_exits_130(
    tmp_path: Path, group: bool
) -> None:
    cli = Cli("run", "P", new_session=group, MARKERS=str(tmp_path))
    cli.wait_for("prepared")
    marker = tmp_path / "spin"
    deadline = time.monotonic() + TIMEOUT
    while not (marker.exists() and marker.read_text()):  # the worker has started the task
        assert time.monotonic() < deadline
        time.sleep(0.01)
    started = time.monotonic()
    cli.signal(signal.SIGINT, group=group)
    status, out, err = cli.finish()

    assert status == 130
    assert time.monotonic() - started < 5.0  # within kill_grace
    assert out.splitlines() == ["prepared", "rolled back"]
    assert err.splitlines()[-1] == "Interrupted."
    assert "Traceback" not in err  # the workers ignored the Ctrl-C
    assert pid_gone_soon(work.marked(marker)[0])


# -- the documented launchers --------------------------------------------------------------
@pytest.mark.parametrize("launcher", ["python -m falyx", "falyx script"])
def test_launchers_run_process_steps_defined_in_the_app_file(
    tmp_path: Path, launcher: str
) -> None:
    (tmp_path / "launch.py").write_text(APP + '\nif __name__ == "__main__":\n    app()\n')
    prefix = ([sys.executable, "-m", "falyx"] if launcher == "python -m falyx"
              else [str(Path(sys.executable).parent / "falyx")])
    done, _ = run(*prefix, "launch.py", "run", "P", "--json", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["status"] == "OK" and isinstance(outcome["result"], int)


def test_a_script_without_a_main_guard_gets_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "unguarded.py").write_text(APP + "\napp()\n")
    done, _ = run(sys.executable, "unguarded.py", "run", "P", cwd=tmp_path)

    assert done.returncode == 2
    assert done.stdout == ""
    line = done.stderr.strip()
    assert "\n" not in line
    assert line.startswith("Error: ExecutorError: unguarded.py:14 runs process steps")
    assert 'if __name__ == "__main__":' in line


# -- --executor and FALYX_EXECUTOR ---------------------------------------------------------
def test_the_executor_flag_replaces_the_default_executor() -> None:
    cli = subprocess.Popen([sys.executable, str(OPS), "--executor", "thread", "run", "W",
                            "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env=subprocess_env(FALYX_HISTORY="off"), cwd=ROOT)
    out, err = cli.communicate(timeout=TIMEOUT)
    assert cli.returncode == 0, err
    assert json.loads(out)["result"] == str(cli.pid)  # ran in the CLI's own process
    default, _ = run(sys.executable, str(OPS), "run", "W", "--json")
    assert json.loads(default.stdout)["result"] not in {str(cli.pid), "dask"}


def test_the_executor_environment_variable_is_read_like_the_flag() -> None:
    cli = subprocess.Popen([sys.executable, str(OPS), "run", "W", "--json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=subprocess_env(FALYX_HISTORY="off", FALYX_EXECUTOR="thread:2"),
                           cwd=ROOT)
    out, err = cli.communicate(timeout=TIMEOUT)
    assert cli.returncode == 0, err
    assert json.loads(out)["result"] == str(cli.pid)


@pytest.mark.parametrize(("spec", "expected"), [
    ("gpu", "unknown executor 'gpu'"),
    ("process:0", "the worker count must be at least 1"),
    ("thread:x", "unknown executor 'thread:x'"),
    ("dask://nohost", "a Dask scheduler address is dask://HOST:PORT"),
    ("dask://host:99999", "a Dask scheduler address is dask://HOST:PORT"),
    ("http://host:8786", "unknown executor 'http://host:8786'"),
])
def test_a_bad_executor_spec_is_one_line_and_exit_2(spec: str, expected: str) -> None:
    for argv, env in ((["--executor", spec], {}), ([], {"FALYX_EXECUTOR": spec})):
        done, _ = run(sys.executable, str(OPS), *argv, "run", "W", **env)
        assert done.returncode == 2
        assert done.stdout == ""
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith("Error: --executor: ") and expected in line


def test_an_unpicklable_argument_is_a_clear_error_and_not_retried() -> None:
    code = (
        "import asyncio, threading\n"
        "from falyx import ProcessAction\n"
        "from tests.helpers_engine import square\n"
        "from falyx.history import default_registry\n"
        "async def main():\n"
        "    step = ProcessAction('locked', square, args=(threading.Lock(),), retry=3)\n"
        "    try:\n"
        "        await step()\n"
        "    except Exception as exc:\n"
        "        print(type(exc).__name__, step.name, default_registry().latest().attempts)\n"
        "if __name__ == '__main__':\n"
        "    asyncio.run(main())\n"
    )
    done, _ = run(sys.executable, "-c", code)
    assert done.stdout.strip() == "NotPicklableError locked 1"  # one attempt: not retried
