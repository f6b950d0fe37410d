"""What the CLI prints on a real terminal (pexpect): lines written while a spinner spins, and
confirmations asked on the controlling terminal when stderr is redirected."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from tests.conftest import ROOT, subprocess_env

pytestmark = pytest.mark.slow

APP = ROOT / "tests" / "apps" / "output_app.py"
SPINNER = "Speaking busily"
CPR_REQUEST = re.compile(re.escape("\x1b[6n"))  # prompt_toolkit asks where the cursor is
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: What the spinner command writes, by every route a step has (see tests/apps/output_app.py).
STDOUT_LINES = ["print to stdout", "shell stdout"]
STDERR_LINES = ["log line from a step", "print to stderr", "shell stderr", "no newline yet"]
QUESTION = "Confirm execution of D — Deploy. (calls `deploy` with env=prod, out_dir='/tmp/out dir')"


class Shell:
    """`sh -c LINE` in a 40x120 colour pty (its controlling terminal), answering cursor-position
    requests as a terminal does; `seen` keeps every byte it printed."""

    def __init__(self, line: str, cwd: Path, **env: str) -> None:
        child_env = subprocess_env(FALYX_HISTORY="off", TERM="xterm", **env)
        for name in ("NO_COLOR", "COLUMNS", "LINES"):
            child_env.pop(name, None)
        self.child = pexpect.spawn("/bin/sh", ["-c", line], env=child_env, cwd=str(cwd),
                                   dimensions=(40, 120), encoding="utf-8", timeout=30)
        self.seen = ""

    def expect(self, text: str) -> None:
        pattern = re.compile(re.escape(text))
        while self.child.expect([CPR_REQUEST, pattern]) == 0:
            self._keep()
            self.child.send("\x1b[1;1R")
        self._keep()

    def finish(self) -> int:
        self.child.expect(pexpect.EOF)
        self.seen += self.child.before
        self.child.close()
        return self.child.exitstatus

    def _keep(self) -> None:
        self.seen += self.child.before + self.child.after


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[object]:
    opened: list[Shell] = []

    def spawn(line: str, **env: str) -> Shell:
        opened.append(Shell(line, tmp_path, **env))
        return opened[-1]

    yield spawn
    for terminal in opened:
        if terminal.child.isalive():
            terminal.child.terminate(force=True)


def app_line(*args: str, redirect: str = "") -> str:
    return " ".join(shlex.quote(a) for a in (sys.executable, str(APP), *args)) + redirect


def line_before(raw: str, text: str) -> str:
    """What the terminal shows before `text` on its line: the bytes since the last carriage
    return or newline, escape sequences removed."""
    index = raw.index(text)
    start = max(raw.rfind("\r", 0, index), raw.rfind("\n", 0, index)) + 1
    return ANSI.sub("", raw[start:index])


def spin(shell, tmp_path: Path, *args: str, redirect: str = "") -> Shell:
    """Run the spinner command; let it write only once the spinner is on the screen."""
    go = tmp_path / "go"
    term = shell(app_line(*args, "run", "S", redirect=redirect), FALYX_TEST_GO=str(go))
    term.expect(SPINNER)
    go.touch()
    assert term.finish() == 0, term.seen
    return term


# -- 1. nothing is glued onto the spinner's line ---------------------------------------------
def test_log_lines_prints_and_shell_output_start_their_own_line_under_a_spinner(
    shell, tmp_path: Path
) -> None:
    term = spin(shell, tmp_path)

    for text in STDOUT_LINES + STDERR_LINES:
        assert text in term.seen
        assert SPINNER not in line_before(term.seen, text), (text, term.seen)
    assert "WARNING" in line_before(term.seen, "log line from a step")  # the rich handler's
    assert "✅ S — Speak: 'spoken'" in term.seen


def test_json_log_lines_stay_whole_json_under_a_spinner(shell, tmp_path: Path) -> None:
    term = spin(shell, tmp_path, "--log-format", "json")

    line = next(line for line in term.seen.splitlines() if "log line from a step" in line)
    record = json.loads(ANSI.sub("", line.split("\r")[-1]))  # after the line's clear
    assert record["message"] == "log line from a step" and record["level"] == "WARNING"


def test_stdout_redirected_keeps_only_what_functions_print_while_the_spinner_shows(
    shell, tmp_path: Path
) -> None:
    out = tmp_path / "out.txt"
    term = spin(shell, tmp_path, redirect=f" > {shlex.quote(str(out))}")

    assert out.read_text() == "".join(f"{line}\n" for line in STDOUT_LINES)
    assert SPINNER in term.seen
    for text in STDOUT_LINES:
        assert text not in term.seen
    for text in STDERR_LINES:
        assert SPINNER not in line_before(term.seen, text), (text, term.seen)


# -- 2. confirmation on the controlling terminal ---------------------------------------------
def test_confirmation_is_asked_on_the_terminal_when_stderr_goes_through_a_pipe(shell) -> None:
    term = shell(app_line("run", "D", "--env", "prod", redirect=" 2>&1 | cat"))
    term.expect(QUESTION)
    term.child.send("y")
    term.expect("deployed to prod from /tmp/out dir")

    assert term.finish() == 0
    assert "⚑ Arguments: env=prod, out_dir='/tmp/out dir'" in term.seen  # the preview, via cat


def test_confirmation_with_stderr_in_a_file_asks_on_the_terminal_and_logs_the_rest(
    shell, tmp_path: Path
) -> None:
    log = tmp_path / "deploy.log"
    term = shell("exec " + app_line("run", "D", "--env", "prod", redirect=f" 2>{log}"))
    term.expect(QUESTION)
    term.child.send("n")

    assert term.finish() == 1  # declined
    written = log.read_text()
    assert "⚑ Arguments: env=prod, out_dir='/tmp/out dir'" in written
    assert written.endswith("Cancelled.\n")
    assert "Confirm execution" not in written  # the question went to the terminal only
    assert "deployed" not in term.seen


def test_history_clear_asks_on_the_terminal_when_stderr_is_redirected(
    shell, tmp_path: Path
) -> None:
    db = tmp_path / "h.db"
    ran = subprocess.run([sys.executable, str(APP), "--history", str(db), "run", "D", "-y"],
                         capture_output=True, text=True, env=subprocess_env(), timeout=60)
    assert ran.returncode == 0, ran.stderr
    log = tmp_path / "clear.log"
    term = shell("exec " + app_line("--history", str(db), "history", "--clear",
                                    redirect=f" 2>{log}"))
    term.expect("Delete the whole execution history?")
    term.expect("[y/N]")
    term.child.send("y")

    assert term.finish() == 0
    assert log.read_text() == "History cleared.\n"
    listed = subprocess.run([sys.executable, str(APP), "--history", str(db), "history", "--json"],
                            capture_output=True, text=True, env=subprocess_env(), timeout=60)
    assert json.loads(listed.stdout) == []


@pytest.mark.parametrize("args", [["run", "D"], ["history", "--clear"]])
def test_a_terminal_on_stdin_without_a_controlling_terminal_still_exits_2(
    args: list[str], tmp_path: Path
) -> None:
    """stdin is a tty but the process has no controlling terminal (a new session): nowhere to
    ask, so the one-line error, never a hang."""
    primary, secondary = os.openpty()
    try:
        done = subprocess.run([sys.executable, str(APP), *args], stdin=secondary,
                              capture_output=True, text=True, env=subprocess_env(),
                              start_new_session=True, timeout=60)
    finally:
        os.close(primary)
        os.close(secondary)

    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].endswith(
        "needs confirmation but there is no terminal to ask on; pass -y (--skip-confirm) to go "
        "ahead without asking")
    assert "Traceback" not in done.stderr and done.stdout == ""
