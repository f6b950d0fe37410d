"""The menu end to end, in a real pseudo-terminal (pexpect): what a person sees and types."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from tests.conftest import ROOT, not_an_int, subprocess_env

pytestmark = pytest.mark.slow

SIMPLE = ROOT / "examples" / "simple.py"
MENU_APP = ROOT / "tests" / "apps" / "menu_app.py"
# prompt_toolkit asks where the cursor is (CPR) before drawing the bottom bar; a terminal answers.
CPR_REQUEST = re.compile(re.escape("\x1b[6n"))
# The `>` prompt at the start of a line, after nothing but escape sequences.
PROMPT = re.compile(r"(?:^|\n)(?:\x1b\[[0-9;?]*[A-Za-z]|\r)*>")
SUCCEEDS_FIRST_TIME = "2"  # FALYX_DEMO_SEED under which both flaky steps pass at once


class Terminal:
    """A program in a 40x120 pty, answering cursor-position requests like a real terminal."""

    def __init__(self, script: Path, state: Path, *args: str, **env: str) -> None:
        child_env = subprocess_env(FALYX_HISTORY="off", XDG_STATE_HOME=str(state), TERM="xterm",
                                   **env)
        for name in ("NO_COLOR", "COLUMNS", "LINES"):  # a colour terminal, sized by the pty
            child_env.pop(name, None)
        self.child = pexpect.spawn(sys.executable, [str(script), *args], env=child_env,
                                   cwd=str(state.parent), dimensions=(40, 120), encoding="utf-8",
                                   timeout=10)

    def expect(self, *texts: str | re.Pattern[str]) -> None:
        """Wait for each text in turn (literal strings or regexes)."""
        for text in texts:
            pattern = text if isinstance(text, re.Pattern) else re.compile(re.escape(text))
            found = False
            while not found:
                found = self.child.expect([CPR_REQUEST, pattern]) == 1
                # A request may also sit inside what the pattern matched or skipped.
                seen = self.child.before + self.child.after
                self.child.send("\x1b[1;1R" * len(CPR_REQUEST.findall(seen)))

    def prompt(self) -> None:
        self.expect(PROMPT)

    def type(self, text: str) -> None:
        self.child.send(text)

    def exit_status(self) -> int:
        self.child.expect(pexpect.EOF)
        self.child.close()
        return self.child.exitstatus

    def kill(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)


@pytest.fixture
def terminals(tmp_path: Path) -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for terminal in opened:
        terminal.kill()


@pytest.fixture
def open_menu(tmp_path: Path, terminals: list[Terminal]):
    (tmp_path / "cwd").mkdir()

    def spawn(script: Path, *args: str, **env: str) -> Terminal:
        terminal = Terminal(script, tmp_path / "state", *args, **env)
        terminals.append(terminal)
        return terminal

    return spawn


def test_menu_runs_the_seed_pipeline_with_preview_and_confirm_then_shows_history(
    open_menu, tmp_path: Path
) -> None:
    term = open_menu(SIMPLE, "--menu", FALYX_DEMO_SEED=SUCCEEDS_FIRST_TIME)
    term.expect("🚀 Falyx Demo", "[R] Run My Pipeline", "[H] Help", "[Y] History", "[X] Exit")
    term.prompt()
    term.type("r\r")
    term.expect("Command: 'R' — Run My Pipeline", "⛓ ChainedAction 'my_pipeline'",
                "⚙ Action 'step_1'", "Confirm execution of R")
    term.type("y")
    term.expect("Running Run My Pipeline", "ok\r\n", "ok\r\n",  # the spinner, both steps
                "✅ R — Run My Pipeline: 'ok'", "[R] Run My Pipeline")
    term.prompt()
    term.type("Y\r")
    term.expect("Execution History", "step_1", "step_2", "my_pipeline", "Run My Pipeline")
    term.prompt()
    term.child.sendcontrol("d")
    assert term.exit_status() == 0
    # FALYX_HISTORY=off: the prompt history is not written either (tests/test_history_paths.py)
    assert list(tmp_path.rglob("*.prompt_history")) == []
    assert list((tmp_path / "cwd").iterdir()) == []  # nothing left in the working directory


def test_no_arguments_on_a_terminal_open_the_menu_and_unknown_keys_get_a_suggestion(
    open_menu,
) -> None:
    term = open_menu(SIMPLE)
    term.expect("[R] Run My Pipeline")
    term.prompt()
    term.type("rr\r")
    term.expect("unknown command 'rr'; did you mean 'R'?")
    term.prompt()
    term.type("?r\r")
    term.expect("⛓ ChainedAction 'my_pipeline'")
    term.prompt()
    term.child.sendcontrol("c")
    assert term.exit_status() == 0


def test_ctrl_key_flips_a_toggle_that_actions_read_and_the_bar_redraws(open_menu) -> None:
    term = open_menu(MENU_APP)
    term.expect("[G] Greet (HI)")
    term.prompt()
    term.expect("^V verbose: OFF", "Runs: 0", "menu test")
    term.child.sendcontrol("v")
    term.expect("^V verbose: ON")
    term.type("l\r")
    term.expect("verbose is on, log level DEBUG")
    term.prompt()
    term.type("hi\r")
    term.expect("✅ G — Greet: 'hello'")
    term.prompt()
    term.expect("^V verbose: ON", "Runs: 1")
    term.child.sendcontrol("v")
    term.expect("^V verbose: OFF")
    term.type("x\r")
    assert term.exit_status() == 0


def test_ctrl_c_during_a_command_rolls_back_and_returns_to_the_menu(open_menu) -> None:
    term = open_menu(MENU_APP)
    term.prompt()
    term.type("s\r")
    term.expect("prepared", "slow step waiting")
    term.child.sendcontrol("c")
    term.expect("rolled back", "Interrupted.", "[S] Slow job")
    term.prompt()
    term.type("f\r")
    term.expect("Error: RuntimeError: boom")
    term.prompt()
    term.type("y\r")
    term.expect("Execution History", "wait_forever", "Cancelled", "slow_job", "Cancelled",
                "fail", "Error")
    term.prompt()
    term.type("X\r")
    assert term.exit_status() == 0


def test_sigterm_during_a_command_rolls_back_and_ends_the_menu_with_143(open_menu) -> None:
    term = open_menu(MENU_APP)
    term.prompt()
    term.type("s\r")
    term.expect("slow step waiting")
    term.child.kill(signal.SIGTERM)
    term.expect("rolled back", "Terminated.")
    assert term.exit_status() == 143


def test_a_key_with_options_runs_the_command_with_the_clis_values(open_menu) -> None:
    term = open_menu(MENU_APP)
    term.prompt()
    term.type("b --jobs 8\r")
    term.expect("building with 8 jobs")  # an int, converted by the command's Typer options
    term.prompt()
    term.type("?d --env prod\r")
    term.expect("Command: 'D' — Deploy", "⚑ Arguments: env=prod")
    term.prompt()
    term.type("d --env prod\r")
    term.expect("⚑ Arguments: env=prod",
                "Confirm execution of D — Deploy (calls `deploy` with env=prod)")
    term.type("y")
    term.expect("deploying to prod")
    term.prompt()
    term.type("X\r")
    assert term.exit_status() == 0


def test_bad_options_at_the_menu_prompt_give_typers_message_and_the_prompt_again(
    open_menu,
) -> None:
    term = open_menu(MENU_APP)
    term.prompt()
    term.type("b --jobz 8\r")
    term.expect("Error: B: No such option: --jobz")
    term.prompt()
    term.type("b --jobs many\r")
    term.expect(f"Error: B: Invalid value for '--jobs': {not_an_int('many')}")
    term.prompt()
    term.type("d --env moon\r")
    term.expect("'moon' is not one of 'staging', 'prod'")
    term.prompt()
    term.type("b --jobs '8\r")
    term.expect("Error: No closing quotation")
    term.prompt()
    term.type("b --jobs 2\r")
    term.expect("building with 2 jobs")  # still alive and well
    term.prompt()
    term.type("X\r")
    assert term.exit_status() == 0


def test_menu_without_a_terminal_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SIMPLE), "--menu"], stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=30,
        env=subprocess_env(FALYX_HISTORY="off", XDG_STATE_HOME=str(tmp_path)),
    )
    assert done.returncode == 2
    assert "--menu needs a terminal" in done.stderr
    assert "Run My Pipeline" not in done.stderr
