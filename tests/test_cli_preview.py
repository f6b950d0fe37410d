"""`preview KEY [OPTIONS]` and the menu's `?KEY [OPTIONS]`: one parser, nothing required,
the same tree (tests/apps/deploy_app.py: D deploy --env {dev,staging,prod}, R = F -> D)."""

from __future__ import annotations

import asyncio

import pytest
import typer.main

from falyx import Falyx
from falyx.cli import line_parser
from falyx.menu import handle_entry
from falyx.runner import Session
from falyx.testing import run_cli
from tests.apps.deploy_app import make_app


def menu_line(app: Falyx, line: str, capsys: pytest.CaptureFixture[str]) -> str:
    """What the menu prints (stderr) for `line` typed at the root's prompt."""
    capsys.readouterr()
    parse = line_parser(typer.main.get_command(app.typer).make_context(app.program, []), app)
    assert asyncio.run(handle_entry(app, Session(), line, parse)) is None
    return capsys.readouterr().err


def test_preview_never_requires_the_commands_options() -> None:
    app = make_app()
    for key in ("D", "R", "r"):  # a required option of the command, or of a step of its chain
        result = run_cli(app, ["preview", key])
        assert result.exit_code == 0, result.stderr
        assert result.stderr.startswith(f"Command: '{key.upper()}'")
        assert "Missing" not in result.stderr and "⚑ Arguments" not in result.stderr
    assert run_cli(app, ["run", "D", "-y"]).exit_code == 2  # running still requires it


@pytest.mark.parametrize(("tokens", "arguments"), [
    (["--env", "prod"], "⚑ Arguments: env=prod, replicas=2"),
    (["--env=staging", "--replicas", "5"], "⚑ Arguments: env=staging, replicas=5"),
    (["--replicas", "3"], "⚑ Arguments: replicas=3"),  # the missing required one is left out
])
def test_preview_takes_the_commands_options_and_shows_them_converted(
    tokens: list[str], arguments: str
) -> None:
    result = run_cli(make_app(), ["preview", "D", *tokens])

    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[:2] == ["Command: 'D' — Deploy to an environment.",
                                              f"├── {arguments}"]
    assert result.stdout == ""  # nothing ran


def test_preview_of_a_chain_takes_the_options_of_all_its_steps() -> None:
    result = run_cli(make_app(), ["preview", "R", "--ref", "v2", "--env", "dev"])

    assert result.exit_code == 0, result.stderr
    assert "⚑ Arguments: ref=v2, env=dev, replicas=2" in result.stderr


def test_preview_shows_the_run_options_effect_on_retries() -> None:
    result = run_cli(make_app(), ["preview", "D", "--retries", "4", "--retry-delay", "0.5"])

    assert result.exit_code == 0, result.stderr
    assert "↻ Retries: 4x, delay 0.5s" in result.stderr


@pytest.mark.parametrize(("tokens", "error"), [
    (["--env", "moon"], "Invalid value for '--env'"),
    (["--replicas", "many"], "Invalid value for '--replicas'"),
    (["--bogus"], "No such option: --bogus"),
])
def test_a_bad_option_in_a_preview_is_one_line_and_exit_2(tokens: list[str], error: str) -> None:
    result = run_cli(make_app(), ["preview", "D", *tokens])

    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert error in result.stderr and "Try 'deploy_app preview D -h'" in result.stderr


def test_preview_key_help_is_the_commands_help() -> None:
    result = run_cli(make_app(), ["preview", "D", "--help"])

    assert result.exit_code == 0
    assert "Usage: deploy_app preview D [OPTIONS]" in result.stdout
    assert "--env" in result.stdout and "--replicas" in result.stdout


@pytest.mark.parametrize("tokens", [
    [], ["--env", "prod"], ["--replicas", "3"], ["--env", "dev", "--retries", "2"],
    ["--ref", "v9"],
])
@pytest.mark.parametrize("key", ["D", "R"])
def test_the_menus_question_mark_prints_what_the_cli_preview_prints(
    key: str, tokens: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app()
    cli = run_cli(app, ["preview", key, *tokens])
    menu = menu_line(app, " ".join([f"?{key}", *tokens]), capsys)

    if cli.exit_code:  # --ref is an option of R's first step, not of D
        assert key == "D" and tokens == ["--ref", "v9"]
        assert menu.startswith("Error: D: No such option: --ref") and menu.count("\n") == 1
    else:
        assert menu == cli.stderr


def test_preview_of_a_submenu_lists_its_commands_and_takes_no_options() -> None:
    app = make_app()
    listed = run_cli(app, ["preview", "o"])
    refused = run_cli(app, ["preview", "O", "--env", "prod"])

    assert listed.exit_code == 0
    assert listed.stderr.splitlines()[0].startswith("Submenu: 'O' — Ops")
    assert "Command: 'S' — Show the status." in listed.stderr
    assert refused.exit_code == 2 and "No such option: --env" in refused.stderr
