"""Shell steps through the real CLI: live streaming, --json order, errors, signals, exit codes."""

from __future__ import annotations

import json
import os
import re
import select
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, subprocess_env
from tests.test_shell_processes import Proc

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads the process table")]

TIMEOUT = 30
APP = '''
import os, sys
from falyx import Falyx, ShellAction, chain

DIR = os.environ["SHELL_TEST_DIR"]
STREAM = (
    "import os, sys, time\\n"
    "print('first', flush=True)\\n"
    "print('err-first', file=sys.stderr, flush=True)\\n"
    "deadline = time.monotonic() + 60\\n"
    "while not os.path.exists(sys.argv[1]) and time.monotonic() < deadline:\\n"
    "    time.sleep(0.005)\\n"
    "print('second')\\n")
LONG = ("for i in 1 2 3; do echo still going >/dev/null; done; " * 6
        + "echo the last error >&2; exit 4")
HOLD = 'trap "" TERM; sleep 300 & echo "$$ $!" > "$1.tmp"; mv "$1.tmp" "$1"; echo holding; wait'


def banner():
    print("from python")


app = Falyx("shell tests", program="shellapp")
app.add_command("S", "Stream", ShellAction("stream", [sys.executable, "-c", STREAM, DIR + "/go"]))
app.add_command("J", "Json", chain(banner, ShellAction("greet", "echo hello"), name="greet"))
app.add_command("F", "Fail", ShellAction(
    "apply", ["sh", "-c", "echo partial; echo 'Error: forbidden' >&2; exit 1"]))
app.add_command("M", "Missing", ShellAction("missing", "kubectl-missing apply -f k8s/"))
app.add_command("L", "Long", ShellAction("long", ["sh", "-c", LONG]))
app.add_command("P", "Placeholder", ShellAction("tag", ["git", "tag", "{tag}"]))
app.add_command("W", "Hold", chain(
    ShellAction("prepare", ["touch", DIR + "/prepared"],
                rollback=ShellAction("undo", ["touch", DIR + "/undone"])),
    ShellAction("hold", ["sh", "-c", HOLD, "sh", DIR + "/pids"], kill_grace=0.3),
    name="hold"))

if __name__ == "__main__":
    app()
'''


@pytest.fixture
def app_file(tmp_path: Path) -> Path:
    path = tmp_path / "shellapp.py"
    path.write_text(APP, encoding="utf-8")
    return path


def _env(tmp_path: Path) -> dict[str, str]:
    return subprocess_env(SHELL_TEST_DIR=str(tmp_path))


def run(app_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(app_file), *args], capture_output=True, text=True,
                          env=_env(app_file.parent), timeout=TIMEOUT, stdin=subprocess.DEVNULL)


def start(app_file: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(app_file), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env=_env(app_file.parent))


def read_until(stream: object, marker: bytes) -> bytes:
    """What a pipe delivered up to and including `marker`, waiting for it (bounded)."""
    fd, seen = stream.fileno(), b""  # type: ignore[attr-defined]
    deadline = time.monotonic() + TIMEOUT
    while marker not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {marker!r} within {TIMEOUT}s: {seen!r}"
        if select.select([fd], [], [], remaining)[0]:
            chunk = os.read(fd, 4096)
            assert chunk, f"the pipe ended before {marker!r}: {seen!r}"
            seen += chunk
    return seen


def finish(proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    try:
        return proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_output_streams_live_before_the_child_exits(app_file: Path) -> None:
    proc = start(app_file, "run", "S")
    try:
        first_out = read_until(proc.stdout, b"first\n")
        first_err = read_until(proc.stderr, b"err-first\n")
        assert proc.poll() is None  # the child is still waiting for the marker file
        (app_file.parent / "go").touch()
    finally:
        out, err = finish(proc)

    assert proc.returncode == 0, err
    assert first_out + out == b"first\nsecond\n"
    assert first_err + err == b"err-first\n"


def test_json_output_follows_what_the_steps_printed(app_file: Path) -> None:
    done = run(app_file, "run", "J", "--json")

    assert done.returncode == 0, done.stderr
    *printed, last = done.stdout.splitlines()
    assert printed == ["from python", "hello"]
    assert json.loads(last) | {"duration": 0} == {
        "command": "J", "status": "OK", "result": "hello", "duration": 0, "error": None}


def test_shell_steps_are_recorded_in_the_sqlite_history_with_their_kind(app_file: Path) -> None:
    db = app_file.parent / "history.db"
    assert run(app_file, "--history", str(db), "run", "J").returncode == 0
    assert run(app_file, "--history", str(db), "run", "F").returncode == 1

    done = run(app_file, "--history", str(db), "history", "--json")

    shell_rows = {row["name"]: row for row in json.loads(done.stdout)
                  if row["kind"] == "ShellAction"}
    assert sorted(shell_rows) == ["apply", "greet"]
    assert shell_rows["greet"]["status"] == "OK" and shell_rows["greet"]["command"] == "J"
    assert (shell_rows["apply"]["status"], shell_rows["apply"]["error_type"]) == (
        "ERROR", "ShellCommandError")
    assert shell_rows["apply"]["error"].endswith("exited with 1: Error: forbidden")


def test_a_failing_program_is_one_error_line_and_exit_1(app_file: Path) -> None:
    done = run(app_file, "run", "F")

    argv = ["sh", "-c", "echo partial; echo 'Error: forbidden' >&2; exit 1"]
    shown = """`sh -c "echo partial; echo 'Error: forbidden' >&2; exit 1"`"""  # as one types it
    assert done.returncode == 1
    assert done.stdout == "partial\n"
    assert done.stderr == (
        "Error: forbidden\n"  # the child's own stderr, streamed
        f"Error: ShellCommandError: {shown} exited with 1: Error: forbidden\n")
    assert shlex.split(shown.strip("`")) == argv  # readable, and exact


def test_a_long_scripts_error_keeps_its_exit_status_and_stderr_line_everywhere(
        app_file: Path) -> None:
    db = app_file.parent / "history.db"
    done = run(app_file, "--history", str(db), "run", "L")

    error = done.stderr.splitlines()[-1]
    assert done.returncode == 1
    assert error.startswith("Error: ShellCommandError: `sh -c 'for i in 1 2 3; do echo ")
    assert "…" in error and error.endswith("exit 4'` exited with 4: the last error")
    wide = subprocess.run([sys.executable, str(app_file), "--history", str(db), "history"],
                          capture_output=True, text=True, timeout=TIMEOUT,
                          env=_env(app_file.parent) | {"COLUMNS": "400"})
    cells = [line for line in wide.stderr.splitlines() if "ShellCommandError" in line]
    assert len(cells) == 2  # the shell step's row and its command's
    for cell in cells:  # the cell is cut in the middle: its end survives
        assert "ShellCommandError(\"`sh -c 'for i" in cell
        assert cell.rstrip(" │").endswith("exited with 4: the last error\")")


def test_a_missing_program_is_one_error_line_with_the_127_wording(app_file: Path) -> None:
    done = run(app_file, "run", "M", "--json")

    assert done.returncode == 1
    outcome = json.loads(done.stdout)
    assert outcome["error"] == ("ShellCommandError: 'kubectl-missing apply -f k8s/' exited with "
                                "127: kubectl-missing: command not found")
    assert done.stderr == f"Error: {outcome['error']}\n"


def test_a_placeholder_without_a_value_exits_2_naming_it(app_file: Path) -> None:
    done = run(app_file, "run", "P")

    assert done.returncode == 2
    assert "tag" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("signum", "code", "line"), [
    (signal.SIGINT, 130, "Interrupted."),
    (signal.SIGTERM, 143, "Terminated."),
])
def test_a_signal_to_falyx_stops_the_group_rolls_back_and_exits_with_its_code(
    app_file: Path, signum: signal.Signals, code: int, line: str
) -> None:
    proc = start(app_file, "run", "W", "-y")
    try:
        read_until(proc.stdout, b"holding\n")
        child, grandchild = map(Proc, map(int, (app_file.parent / "pids").read_text().split()))
        proc.send_signal(signum)  # to falyx only: the child runs in a session of its own
    finally:
        _, err = finish(proc)

    assert proc.returncode == code
    lines = err.decode().splitlines()
    assert lines[-1] == line
    assert [x.split("] ", 1)[-1] for x in lines[:-1]] == [
        "WARNING  [prepare] Rolled back after cancellation"]
    assert (app_file.parent / "undone").exists()  # the shell rollback of the completed step ran
    assert not child.running() and not grandchild.running()


# -- the README's "Shell steps" example ---------------------------------------------------------
def _readme_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Shell steps")
    return readme[start:readme.index("\n## ", start + 1)]


def _fenced(language: str) -> str:
    found = re.search(rf"```{language}\n(.*?)```", _readme_section(), re.S)
    assert found is not None, f"no {language} block in the README's Shell steps section"
    return found.group(1)


def _readme_sessions() -> list[tuple[list[str], list[str]]]:
    """(command words, output lines) for every `$ python release.py ...` the section shows."""
    block = _fenced("text")
    sessions: list[tuple[list[str], list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ python release.py "):
            sessions.append((shlex.split(line)[3:], []))
        else:
            sessions[-1][1].append(line)
    return sessions


def test_the_readme_shell_example_prints_what_the_readme_shows(tmp_path: Path) -> None:
    code = _fenced("python")
    script = tmp_path / "release.py"
    script.write_text(code, encoding="utf-8")
    sessions = _readme_sessions()
    assert [words for words, _ in sessions] == [["run", "R", "-y"], ["preview", "R"]]

    for words, shown in sessions:
        done = run(script, *words)
        assert done.returncode == 0, done.stderr
        assert (done.stdout + done.stderr).splitlines() == shown
