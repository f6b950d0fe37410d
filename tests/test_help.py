"""`help -t TAG` (headless) and `H -t TAG` (menu): only the commands with that tag."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from falyx import Falyx
from falyx.menu import run_menu
from falyx.runner import Session
from falyx.testing import run_cli
from tests.conftest import ROOT

ALL = {"ci": ["[B] Build", "[T] Test (CHECK)"], "ops": ["[D] Deploy", "[T] Test (CHECK)"],
       "": ["[N] Notes"]}


@pytest.fixture
def app() -> Falyx:
    app = Falyx("Tools", program="help-test")
    app.add_command("B", "Build", lambda: "built", tags=["ci"])
    app.add_command("T", "Test", lambda: "tested", tags=["ops", "ci"], aliases=["check"])
    app.add_command("D", "Deploy", lambda: "deployed", tags=["ops"])
    app.add_command("N", "Notes", lambda: "notes")
    app.add_command("S", "Secret", lambda: "secret", tags=["ci"], hidden=True)
    return app


def _shown(text: str) -> set[str]:
    return {line for lines in ALL.values() for line in lines if line in text}


@pytest.mark.parametrize("argv", [["help", "-t", "ci"], ["help", "--tag", "ci"],
                                  ["help", "--tag=ci"]])
def test_help_with_a_tag_lists_only_the_commands_with_that_tag(app: Falyx, argv) -> None:
    result = run_cli(app, argv)

    assert result.exit_code == 0, result.stderr
    assert _shown(result.stderr) == set(ALL["ci"])
    assert "# ci" in result.stderr and "# ops" not in result.stderr
    assert "Secret" not in result.stderr and "[H] Help" not in result.stderr


def test_a_command_with_several_tags_is_listed_under_each_of_them(app: Falyx) -> None:
    result = run_cli(app, ["help", "-t", "ops"])

    assert _shown(result.stderr) == set(ALL["ops"])


def test_help_without_a_tag_still_lists_everything(app: Falyx) -> None:
    result = run_cli(app, ["help"])

    assert _shown(result.stderr) == {line for lines in ALL.values() for line in lines}
    assert "[H] Help" in result.stderr


@pytest.mark.parametrize("tag", ["nope", "CI", "Secret"])
def test_an_unknown_tag_is_one_error_line_naming_the_known_tags_and_exit_2(
    app: Falyx, tag: str
) -> None:
    result = run_cli(app, ["help", "-t", tag])

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"Error: no command has the tag '{tag}' (tags: ci, ops)"]
    assert result.stdout == ""


def test_an_app_without_tags_says_so() -> None:
    app = Falyx("Tools", program="help-test")
    app.add_command("N", "Notes", lambda: "notes")
    result = run_cli(app, ["help", "-t", "ci"])
    assert result.exit_code == 2
    assert "no command has the tag 'ci' (tags: none)" in result.stderr


async def type_into_menu(app: Falyx, keys: str) -> int:
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        return await asyncio.wait_for(
            run_menu(app, Session(), input=pipe, output=DummyOutput()), timeout=10)


@pytest.mark.parametrize("line", ["H -t ci", "h --tag ci", "help --tag=ci", "  H   -t  ci "])
async def test_menu_help_with_a_tag_lists_only_those_commands(app: Falyx, capsys, line) -> None:
    assert await type_into_menu(app, "x\r") == 0
    menu_only = capsys.readouterr().err
    assert await type_into_menu(app, f"{line}\rx\r") == 0
    help_part = capsys.readouterr().err.replace(menu_only, "", 1)
    assert _shown(help_part) == set(ALL["ci"])


@pytest.mark.parametrize(("line", "error"), [
    ("H -t nope", "Error: no command has the tag 'nope' (tags: ci, ops)"),
    ("H -x ci", "Error: H takes only -t TAG, got '-x ci'"),
    ("H -t", "Error: H takes only -t TAG, got '-t'"),
])
async def test_menu_help_with_bad_options_is_one_error_line_and_the_menu_goes_on(
    app: Falyx, capsys, line: str, error: str
) -> None:
    assert await type_into_menu(app, f"{line}\rb\rx\r") == 0
    err = capsys.readouterr().err
    assert [x for x in err.splitlines() if x.startswith("Error")] == [error]
    assert app.get("B").result == "built"  # the menu went on to run B


async def test_a_command_whose_alias_is_help_is_not_taken_for_the_builtin(capsys) -> None:
    app = Falyx("Tools", program="help-test")
    app.add_command("K", "Keeper", lambda: "kept", aliases=["HELP"], tags=["ci"])
    assert await type_into_menu(app, "help -t ci\rx\r") == 0
    err = capsys.readouterr().err
    # the words after HELP are K's options (K takes none), not the built-in help's tag filter
    assert "Error: K: this menu takes no options after a key" in err
    assert "H takes only" not in err


def _read_until(term: Any, text: str | re.Pattern[str]) -> str:
    """Everything the terminal shows up to `text`, answering cursor-position requests."""
    from tests.test_menu_pty import CPR_REQUEST

    pattern = text if isinstance(text, re.Pattern) else re.compile(re.escape(text))
    seen = ""
    while True:
        index = term.child.expect([CPR_REQUEST, pattern])
        chunk = term.child.before + term.child.after
        seen += chunk
        term.child.send("\x1b[1;1R" * len(CPR_REQUEST.findall(chunk)))
        if index == 1:
            return seen


@pytest.mark.slow
def test_menu_help_with_a_tag_in_a_real_terminal(tmp_path: Path) -> None:
    from tests.test_menu_pty import PROMPT, Terminal

    (tmp_path / "cwd").mkdir()
    term = Terminal(ROOT / "tests" / "apps" / "menu_app.py", tmp_path / "state")
    try:
        assert "[G] Greet" in _read_until(term, PROMPT)  # the whole menu first
        term.type("H -t ops\r")
        shown = "".join(_read_until(term, text) for text in ("# ops", "[F] Fail", PROMPT))
        assert "[S] Slow job" in shown
        assert "[G] Greet" not in shown and "# demo" not in shown
        term.type("x\r")
        assert term.exit_status() == 0
    finally:
        term.kill()
