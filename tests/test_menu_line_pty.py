"""Options at the menu's prompt, in a real pseudo-terminal (pexpect): `?KEY` without its
required options, Tab on option values and submenu paths, `KEY --help`, one-line errors and
names at depth (tests/apps/deploy_app.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_menu_pty import Terminal

pytestmark = pytest.mark.slow

APP = ROOT / "tests" / "apps" / "deploy_app.py"
TAB = "\t"
OPS = "ops >"


def drawn(text: str) -> re.Pattern[str]:
    """`text` as a terminal draws it: styles and cursor moves may come between its letters
    (prompt_toolkit redraws only what changed, rich colours words)."""
    return re.compile(r"(?:\x1b\[[0-9;?]*[A-Za-z])*".join(map(re.escape, text)))


@pytest.fixture
def menu(tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    opened: list[Terminal] = []
    (tmp_path / "cwd").mkdir()

    def spawn(*args: str, **env: str) -> Terminal:
        terminal = Terminal(APP, tmp_path / "state", "--menu", *args, **env)
        opened.append(terminal)
        return terminal

    yield spawn
    for terminal in opened:
        terminal.kill()


def test_preview_without_and_with_a_required_option(menu) -> None:
    term = menu()
    term.prompt()
    term.type("?R\r")                          # R's deploy step requires --env: not to preview
    term.expect("Command: 'R' — Release", "⚙ Action 'deploy'")
    term.prompt()
    term.type("?r --env prod --ref v2\r")
    term.expect("⚑ Arguments: ref=v2, env=prod, replicas=2")
    term.prompt()
    term.type("x\r")
    assert term.exit_status() == 0


def test_the_choices_of_an_option_are_offered_and_tab_takes_one(menu) -> None:
    # The prompt completes while typing; each step waits for the offer to be drawn, so a
    # Tab never races the completer (it runs off the event loop).
    term = menu()
    term.prompt()
    term.type("D --env ")
    term.expect(drawn(" dev "), drawn(" staging "), drawn(" prod "))
    term.type(TAB + "\r")                       # Tab takes the first offer
    term.expect("⚑ Arguments: env=dev, replicas=2", "Confirm execution of D")
    term.type("y")
    term.expect("deployed to dev x2")
    term.prompt()
    term.type("d --replicas 3 --env pr")
    term.expect(drawn(" prod "))
    term.type(TAB + "\r")
    term.expect("Confirm execution of D")
    term.type("y")
    term.expect("deployed to prod x3")
    term.prompt()
    term.type("x\r")
    assert term.exit_status() == 0


def test_paths_into_a_submenu_and_their_options_are_offered(menu) -> None:
    term = menu()
    term.prompt()
    term.type("o.")
    term.expect(drawn(" O.S "), drawn(" O.C "))
    term.type(TAB + " --det")                  # O.S, then its option
    term.expect(drawn(" --detail "))
    term.type(TAB + "\r")
    term.expect("all good (detail=True)")
    term.prompt()
    term.type("x\r")
    assert term.exit_status() == 0


def test_help_errors_and_confirmations_name_the_command_as_at_the_prompt(menu) -> None:
    term = menu()
    term.prompt()
    term.type("D --help\r")
    term.expect(drawn("Usage: D [OPTIONS]"), drawn("--replicas"))
    term.prompt()
    term.type("d\r")                            # a missing choice option: one line
    term.expect(drawn("Error: D: Missing option '--env'. Choose from: dev, staging, prod.\r\n"))
    term.prompt()
    term.type("O.Q\r")
    term.expect("unknown command 'O.Q'; O is the menu 'Ops': its keys are S, C")
    term.prompt()
    term.type("o\r")
    term.expect("🔧 Ops", OPS)
    term.type("c\r")                            # a confirmation at depth: the path
    term.expect("Command: 'O.C' — Careful", "Confirm execution of O.C — Careful")
    term.type("n")
    term.expect("Cancelled.", OPS)
    term.type("h\r")
    term.expect("KEY --name VALUE", "B goes back", OPS)
    term.type("x\r")
    assert term.exit_status() == 0
