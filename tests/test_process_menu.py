"""Ctrl-C in the menu while a process step runs: the work stops, the pool keeps working."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.test_menu_pty import Terminal
from tests.test_runner_signals import OPS, TIMEOUT

pytestmark = pytest.mark.slow


def test_ctrl_c_in_the_menu_during_a_process_step_leaves_a_working_pool(tmp_path: Path) -> None:
    (tmp_path / "cwd").mkdir()
    term = Terminal(OPS, tmp_path / "state", "--menu", MARKERS=str(tmp_path))
    try:
        term.child.timeout = TIMEOUT
        term.prompt()
        term.type("p\r")
        term.expect("prepared")
        marker = tmp_path / "spin"
        deadline = time.monotonic() + TIMEOUT
        while not (marker.exists() and marker.read_text()):  # a worker runs the endless task
            assert time.monotonic() < deadline
            time.sleep(0.01)
        term.child.sendintr()  # the terminal's Ctrl-C: SIGINT to the whole process group
        term.expect("rolled back", "Interrupted.")
        term.prompt()
        term.type("w\r")  # another process step, on the same pool
        term.expect("✅ W — Where: '")
        term.prompt()
        term.type("x\r")
        assert term.exit_status() == 0
        assert "BrokenProcessPool" not in term.child.before
    finally:
        term.kill()
