"""Bad input on the command line and in the menu: one line that names the right thing.

run-all with a command that cannot run on its defaults; Click's multi-line messages joined;
an unknown key inside a submenu answered from that submenu's keys.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import pytest
import typer
import typer.main
from hypothesis import given
from hypothesis import strategies as st

from falyx import Falyx
from falyx.cli import line_parser
from falyx.cli.jobs import one_line
from falyx.menu import handle_entry
from falyx.runner import Session
from falyx.testing import run_cli
from tests.apps.deploy_app import make_app

CHOICES = "Choose from: dev, staging, prod."


def typed(app: Falyx, line: str, capsys: pytest.CaptureFixture[str], at: Falyx | None = None,
          ) -> str:
    """stderr of `line` typed at the prompt of `at` (default: the root's)."""
    capsys.readouterr()
    parse = line_parser(typer.main.get_command(app.typer).make_context(app.program, []), app)
    asyncio.run(handle_entry(at or app, Session(never_prompt=True), line, parse))
    return capsys.readouterr().err


# -- run-all: each command with its defaults ---------------------------------------------------
def test_run_all_with_a_required_option_says_why_in_one_line_before_anything_runs() -> None:
    result = run_cli(make_app(), ["run-all", "-t", "release", "-y"])

    assert result.exit_code == 2
    assert result.stderr == (
        "Error: run-all runs each command with its defaults, and command R (Release) has a "
        "required option '--env'; run it on its own: run R ...\n")
    assert result.stdout == ""  # P, tagged too and runnable, did not run either


def test_run_all_runs_a_command_whose_required_option_comes_from_the_environment() -> None:
    app = Falyx("T", program="t")
    ran: list[str] = []

    @app.command(key="D", tags=["t"])
    def deploy(*, env: Annotated[str, typer.Option(envvar="T_ENV")]) -> None:
        ran.append(env)

    missing = run_cli(app, ["run-all", "-t", "t"], env={"T_ENV": None})
    given_by_env = run_cli(app, ["run-all", "-t", "t"], env={"T_ENV": "qa"})

    assert missing.exit_code == 2 and "required option '--env'" in missing.stderr
    assert given_by_env.exit_code == 0, given_by_env.stderr
    assert ran == ["qa"]


def test_run_all_takes_no_command_options_and_its_help_says_so() -> None:
    app = make_app()
    refused = run_cli(app, ["run-all", "-t", "release", "-y", "--env", "prod"])
    help_ = run_cli(app, ["run-all", "--help"])

    assert refused.exit_code == 2
    assert refused.stderr.startswith("Error: No such option: --env")
    assert len(refused.stderr.splitlines()) == 1
    assert "each with its defaults" in help_.stdout and "no command options" in help_.stdout


# -- Click's multi-line messages, on one line ------------------------------------------------
@pytest.mark.parametrize("argv", [["run", "D", "-y"], ["deploy", "-y"], ["run", "r", "-y"]])
def test_a_missing_choice_option_is_one_line_on_the_command_line(argv: list[str]) -> None:
    result = run_cli(make_app(), argv)

    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert f"Error: Missing option '--env'. {CHOICES} Try 'deploy_app " in result.stderr


@pytest.mark.parametrize("line", ["D", "d --replicas 3", "R --ref v2"])
def test_a_missing_choice_option_is_one_line_in_the_menu(
    line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    key = line.split()[0].upper()
    assert typed(make_app(), line, capsys) == f"Error: {key}: Missing option '--env'. {CHOICES}\n"


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
                max_size=6),
       st.lists(st.sampled_from(["\n", "\r\n", "\n\t", " \n  ", "\t\n\t\t"]), max_size=6))
def test_one_line_keeps_every_word_and_leaves_no_line_break(
    parts: list[str], breaks: list[str]
) -> None:
    pairs = zip(parts, breaks, strict=False)
    message = "".join(p + b for p, b in pairs) + "".join(parts[len(breaks):])
    joined = one_line(message)

    assert "\n" not in joined and "\r" not in joined
    assert joined.split() == message.split()


# -- unknown keys at depth -------------------------------------------------------------------
@pytest.mark.parametrize(("argv", "line"), [
    (["run", "O.Q"], "Error: unknown command 'O.Q'; O is the menu 'Ops': its keys are S, C"),
    (["run", "ops.zz"],
     "Error: unknown command 'ops.zz'; ops is the menu 'Ops': its keys are S, C"),
    (["preview", "O.CC"], "Error: unknown command 'O.CC'; did you mean 'O.C'?"),
    (["run", "Q"], "Error: unknown command 'Q'; see 'help' for commands"),
])
def test_an_unknown_key_in_a_submenu_is_answered_from_that_submenus_keys(
    argv: list[str], line: str
) -> None:
    result = run_cli(make_app(), argv)

    assert result.exit_code == 2
    assert result.stderr == line + "\n"


def test_the_menu_answers_an_unknown_path_from_the_submenus_keys(
    capsys: pytest.CaptureFixture[str]
) -> None:
    assert typed(make_app(), "o.q", capsys) == (
        "Error: unknown command 'o.q'; o is the menu 'Ops': its keys are S, C\n")
