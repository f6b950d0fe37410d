"""Submenus in the menu, in a real pseudo-terminal (pexpect): what a person sees and types,
two levels deep (tests/apps/submenu_app.py: root -> O ops -> D db)."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_menu_pty import Terminal

pytestmark = pytest.mark.slow

APP = ROOT / "tests" / "apps" / "submenu_app.py"
# prompt_toolkit draws the prompt's trailing space as a cursor move: match up to the `>`.
OPS = "ops >"
DB = "ops > db >"


@pytest.fixture
def menu(tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    opened: list[Terminal] = []
    (tmp_path / "cwd").mkdir()

    def spawn(*args: str, **env: str) -> Terminal:
        terminal = Terminal(APP, tmp_path / "state", *args, **env)
        opened.append(terminal)
        return terminal

    yield spawn
    for terminal in opened:
        terminal.kill()


def test_a_submenu_opens_runs_goes_deeper_and_back_and_x_exits_from_depth(menu) -> None:
    term = menu()
    term.expect("🧪 Root tools", "# admin", "[O] Ops ▸", "[G] Greet.", "[X] Exit")
    term.prompt()
    term.type("o\r")
    term.expect("🔧 Ops tools", "[D] Database ▸", "[R] Restart the database.",
                "[H] Help  [Y] History  [X] Exit  [B] Back", OPS)
    term.type("r --force\r")
    term.expect("restarting the database (force=True)", OPS)
    term.type("d\r")
    term.expect("🗄 DB tools", "[V] Vacuum a table.", "[B] Back", DB)
    term.type("v --table users\r")
    term.expect("vacuuming users", DB)
    term.type("b\r")
    term.expect("🔧 Ops tools", OPS)
    term.type("B\r")
    term.expect("🧪 Root tools", "[O] Ops ▸")
    term.prompt()
    term.type("g\r")
    term.expect("hello from the root")
    term.prompt()
    term.type("ops\r")                      # a submenu's CLI name opens it too
    term.expect("🔧 Ops tools", OPS)
    term.type("d\r")
    term.expect(DB)
    term.type("x\r")
    assert term.exit_status() == 0


def test_help_history_preview_and_paths_work_at_depth(menu, tmp_path: Path) -> None:
    term = menu("--history", str(tmp_path / "history.db"))  # Y reads the SQLite file
    term.prompt()
    term.type("O.D.V --table t1\r")        # a path runs a submenu's command from the root
    term.expect("vacuuming t1")
    term.prompt()
    term.type("o\r")
    term.expect(OPS)
    term.type("?d\r")
    term.expect("Submenu: 'O.D' — Database (`db`: 🗄 DB tools)", "Command: 'V' — Vacuum", OPS)
    term.type("?r --force\r")
    term.expect("Command: 'O.R' — Restart the database.", "⚑ Arguments: force=True", OPS)
    term.type("r\r")
    term.expect("restarting the database (force=False)", OPS)
    term.type("h\r")
    term.expect("🔧 Ops tools", "[B] Back", "B goes back", OPS)
    term.type("y\r")                        # the submenu's history: its runs, by their path
    term.expect("Execution History", "[O.D.V]", "[O.R]", OPS)
    term.type("d\r")
    term.expect(DB)
    term.type("y\r")
    term.expect("Execution History", "[O.D.V]", DB)
    term.type("b\r")
    term.expect(OPS)
    term.type("x\r")
    assert term.exit_status() == 0


def test_unknown_input_at_depth_gets_a_suggestion_and_b_is_not_a_command_at_the_root(
    menu,
) -> None:
    term = menu()
    term.prompt()
    term.type("b\r")
    term.expect("unknown command 'b'; type H for the commands")
    term.prompt()
    term.type("o\r")
    term.expect(OPS)
    term.type("restrat-db\r")
    term.expect("unknown command 'restrat-db'; did you mean 'restart-db'?", OPS)
    term.type("dd\r")
    term.expect("unknown command 'dd'; did you mean 'D'?", OPS)
    term.type("d extra\r")
    term.expect("'d' opens the menu 'Database' and takes no options", OPS)
    term.type("r --bogus\r")
    term.expect("Error: R: No such option: --bogus", OPS)
    term.child.sendcontrol("d")             # Ctrl-D leaves from any depth, as X does
    assert term.exit_status() == 0


def test_completion_at_depth_offers_the_submenus_keys_and_options(menu) -> None:
    term = menu()
    term.prompt()
    term.type("o\r")
    term.expect(OPS)
    term.type("r --fo")
    term.expect("--force")                  # the completion menu is showing
    term.type("\t")
    term.expect("rce")                      # Tab put the option in the line
    term.type("\r")
    term.expect("restarting the database (force=True)", OPS)
    term.type("d\r")
    term.expect(DB)
    term.type("v --t")
    term.expect("--table")
    term.type("\t")
    term.expect("able")
    term.type(" users\r")
    term.expect("vacuuming users", DB)
    term.type("x\r")
    assert term.exit_status() == 0


def test_ctrl_c_during_a_command_in_a_submenu_rolls_back_and_stays_there(menu) -> None:
    term = menu()
    term.prompt()
    term.type("o\r")
    term.expect(OPS)
    term.type("s\r")
    term.expect("prepared", "slow step waiting")
    term.child.sendcontrol("c")
    term.expect("rolled back prepare", "Interrupted.", "🔧 Ops tools", OPS)
    term.type("f\r")
    term.expect("warmed", "rolled back warm", "Error: RuntimeError: status check failed", OPS)
    term.type("y\r")
    term.expect("Execution History", "[O.S]", "Cancelled", "[O.F]", "Error", OPS)
    term.type("x\r")
    assert term.exit_status() == 0


def test_sigterm_during_a_command_two_deep_ends_the_menu_with_143(menu) -> None:
    term = menu()
    term.prompt()
    term.type("o\r")
    term.expect(OPS)
    term.type("s\r")
    term.expect("slow step waiting")
    term.child.kill(signal.SIGTERM)
    term.expect("rolled back prepare", "Terminated.")
    assert term.exit_status() == 143


def test_the_sub_group_alone_on_a_terminal_opens_its_menu_and_b_goes_up(menu) -> None:
    term = menu("ops")
    term.expect("🔧 Ops tools", "[B] Back", OPS)
    term.type("b\r")
    term.expect("🧪 Root tools", "[O] Ops ▸")
    term.prompt()
    term.type("x\r")
    assert term.exit_status() == 0

