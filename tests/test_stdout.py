"""stdout as falyx writes it (DESIGN §2.6): the `--json` object on a line of its own whatever
the steps printed, and a closed pipe (`| head -1`) never a traceback: real processes, real
pipes, a real terminal for the spinner."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest
from hypothesis import given
from hypothesis import strategies as st

from falyx.stdout import (
    CLOSED_PIPE_EXIT,
    TrackedStdout,
    at_line_start,
    tracked_stdout,
    write_line,
)
from tests.conftest import ROOT, subprocess_env

APP = ROOT / "tests" / "apps" / "stdout_app.py"
#: What each command prints before its JSON object (see tests/apps/stdout_app.py).
PRINTED = {"P": "progress: 50%", "T": "thread: 75%", "E": "done\n", "Q": "",
           "SO": "no newline", "SE": "line\n", "C": "one\nprogress: 50%"}


def app_run(*args: str, stdout: Any = subprocess.PIPE, **env: str
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(APP), *args], stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=120,
                          env=subprocess_env(**env))


def json_lines(stdout: str) -> list[dict[str, Any]]:
    """The JSON objects of `stdout`, each required to fill a line of its own."""
    objects = []
    for line in stdout.split("\n")[:-1]:
        assert line, f"an empty line in {stdout!r}"
        if '{"command"' in line:
            assert line.startswith('{"command"'), f"JSON glued to output: {line!r}"
            objects.append(json.loads(line))
    assert stdout.endswith("\n")
    return objects


@pytest.mark.parametrize("key", sorted(PRINTED))
def test_json_object_starts_a_line_of_its_own_and_adds_no_empty_line(key: str) -> None:
    done = app_run("run", key, "-y", "--json")

    assert done.returncode == 0, done.stderr
    printed = PRINTED[key]
    expected = printed if printed.endswith("\n") or not printed else printed + "\n"
    objects = json_lines(done.stdout)
    assert [o["command"] for o in objects] == [key]
    assert done.stdout == expected + json.dumps(objects[0]) + "\n"


def test_failed_run_json_starts_its_own_line_too() -> None:
    done = app_run("run", "F", "-y", "--json")

    assert done.returncode == 1
    assert done.stdout.startswith("half\n{")
    assert json_lines(done.stdout)[0]["status"] == "ERROR"


def test_run_all_json_lines_each_start_a_line_whatever_steps_printed() -> None:
    for tag, keys in (("open", {"P", "T", "SO"}), ("ended", {"E", "Q", "SE"})):
        done = app_run("run-all", "-t", tag, "-y", "--json")

        assert done.returncode == 0, done.stderr
        assert {o["command"] for o in json_lines(done.stdout)} == keys


def test_json_after_a_spinner_over_an_open_line_starts_its_line(tmp_path: Path) -> None:
    env = subprocess_env(FALYX_HISTORY="off", TERM="xterm")
    for name in ("NO_COLOR", "COLUMNS", "LINES"):
        env.pop(name, None)
    child = pexpect.spawn(sys.executable, [str(APP), "run", "SP", "-y", "--json"], env=env,
                          cwd=str(tmp_path), dimensions=(40, 120), encoding="utf-8",
                          timeout=60)
    child.expect(pexpect.EOF)
    seen = child.before
    child.close()

    assert child.exitstatus == 0, seen
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", seen).replace("\r", "")
    assert re.search(r'(^|\n)\{"command": "SP", "status": "OK"', plain), plain
    assert "spun" in plain and "thread: 75%" in plain
    assert '%{"command"' not in plain and "\n\n{" not in plain


# -- the reader has gone -------------------------------------------------------------------
def closed_pipe(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """Run `command` with stdout a pipe whose reader has already gone (`| head -c0`)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(command, stdout=write_end, stderr=subprocess.PIPE, text=True,
                              timeout=120, env=subprocess_env(**env))
    finally:
        os.close(write_end)


@pytest.mark.parametrize("args", [
    [str(APP), "--help"], [str(APP), "run", "--help"], [str(APP), "preview", "--help"],
    ["-m", "falyx", "schema"], ["-m", "falyx", str(APP), "--help"],
], ids=["app-help", "run-help", "preview-help", "falyx-schema", "falyx-file-help"])
def test_output_into_a_closed_pipe_exits_1_without_a_traceback(args: list[str]) -> None:
    done = closed_pipe([sys.executable, *args])

    assert (done.returncode, done.stderr) == (CLOSED_PIPE_EXIT, "")


def test_history_json_into_a_closed_pipe_exits_1_without_a_traceback(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    assert app_run("run", "M", "-y", "--lines", "3000", FALYX_HISTORY=db).returncode == 0

    done = closed_pipe([sys.executable, str(APP), "history", "--json"], FALYX_HISTORY=db)

    assert (done.returncode, done.stderr) == (CLOSED_PIPE_EXIT, "")


@pytest.mark.parametrize("key", ["M", "SM", "C", "E"])
def test_a_run_into_a_closed_pipe_goes_on_to_its_own_exit_code(key: str, tmp_path: Path
                                                                ) -> None:
    """Python and shell steps alike: the reader has gone, their output is discarded, the run
    succeeds and is recorded as such."""
    db = str(tmp_path / "h.db")

    done = closed_pipe([sys.executable, str(APP), "run", key, "-y", "--json"], FALYX_HISTORY=db)

    assert (done.returncode, done.stderr) == (0, "")
    history = app_run("history", "--json", "--command", key, FALYX_HISTORY=db)
    assert [row["status"] for row in json.loads(history.stdout) if row["parent"] is None] == [
        "OK"]


def test_a_failing_run_into_a_closed_pipe_keeps_its_exit_code_and_error_line() -> None:
    done = closed_pipe([sys.executable, str(APP), "run", "F", "-y"])

    assert done.returncode == 1
    assert done.stderr == "Error: RuntimeError: boom\n"


# -- TrackedStdout ---------------------------------------------------------------------------
@given(st.lists(st.tuples(st.booleans(), st.text(alphabet="ab\n", max_size=5)), max_size=8))
def test_tracked_stdout_knows_whether_the_last_character_ended_a_line(
        writes: list[tuple[bool, str]]) -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    tracked = TrackedStdout(stream)
    for binary, text in writes:
        if binary:
            assert tracked.buffer is not None
            tracked.buffer.write(text.encode())
        else:
            tracked.write(text)
    tracked.flush()
    written = raw.getvalue().decode()

    assert written == "".join(text for _, text in writes)
    assert tracked.at_line_start is (written == "" or written.endswith("\n"))


def test_tracked_stdout_is_installed_once_and_restored() -> None:
    before = sys.stdout
    with tracked_stdout() as outer, tracked_stdout() as inner:
        assert sys.stdout is outer is inner
        print("x", end="")
        assert not at_line_start(sys.stdout)
    assert sys.stdout is before
    assert at_line_start(io.StringIO())  # unknown: taken as a line start


def test_tracked_stdout_discards_output_once_the_reader_has_gone() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    stream = open(write_end, "w", encoding="utf-8", closefd=True)  # noqa: SIM115
    tracked = TrackedStdout(stream)
    try:
        tracked.write("x" * 100_000)
        tracked.flush()
        tracked.write("more\n")
        tracked.flush()
        assert tracked.reader_gone
        assert os.path.samestat(os.fstat(write_end), os.stat(os.devnull))
    finally:
        stream.close()


def test_write_line_starts_a_line_while_threads_leave_lines_open() -> None:
    """Worker threads print open lines while the loop writes JSON lines (`run-all --json`):
    each JSON line still starts a line of its own."""
    import threading

    raw = io.StringIO()
    tracked = TrackedStdout(raw)
    stop = threading.Event()

    def scribble() -> None:
        while not stop.is_set():
            tracked.write("x")

    threads = [threading.Thread(target=scribble) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(2000):
            write_line(tracked, "{J}\n")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    text = raw.getvalue()

    assert text.count("{J}\n") == 2000
    assert all(piece.endswith("\n") or piece == "" for piece in text.split("{J}")[:-1])


def test_a_stand_in_is_finalized_quietly_after_its_streams_owner_closed_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Garbage collection closes an IOBase, which flushes it: a TrackedStdout must not flush
    the stream it stands in for, which its owner (a test runner, say) may have closed
    already (its binary side makes a cycle: the garbage collector finalizes it). Python 3.13
    reports that error; earlier versions swallow it."""
    import gc

    reported: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # with a .buffer, like stdout
    tracked = TrackedStdout(stream)
    tracked.write("text")
    tracked.buffer.write(b" and bytes")  # type: ignore[union-attr]

    stream.close()
    del tracked
    gc.collect()
    assert reported == []
