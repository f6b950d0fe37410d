"""The menu's `KEY --opt v` lines with the CLI behind them (`falyx.cli.line_parser`): Tab
completes what the shell's completion offers, `KEY --help` names the command as typed at the
prompt, and a command at depth is named by its path (tests/apps/deploy_app.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import pytest
import typer
import typer.main
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.output import DummyOutput

from falyx import Falyx
from falyx.cli import line_parser
from falyx.menu import _help_text, handle_entry
from falyx.prompts import menu_prompt
from falyx.runner import Session
from falyx.testing import run_cli
from tests.apps.deploy_app import make_app


@pytest.fixture
def app() -> Falyx:
    return make_app()


def parser(app: Falyx):
    return line_parser(typer.main.get_command(app.typer).make_context(app.program, []), app)


def completions(app: Falyx, text: str, at: Falyx | None = None) -> list[str]:
    """What Tab offers after `text` at the prompt of `at` (default: the root's), as the
    text the line would then hold."""
    completer = menu_prompt(at or app, output=DummyOutput(), history=InMemoryHistory(),
                            complete=parser(app).complete).completer
    found = completer.get_completions(Document(text), CompleteEvent(completion_requested=True))
    return [text[:len(text) + c.start_position] + c.text for c in found]


def shell(app: Falyx, line: str) -> list[str]:
    """What bash completion offers for the last word of `line`."""
    words = line.split(" ")
    env = {"_DEPLOY_APP_COMPLETE": "complete_bash", "COMP_WORDS": line,
           "COMP_CWORD": str(len(words) - 1)}
    result = run_cli(app, [], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout.split()


# -- Tab -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "offered"), [
    ("D --env ", ["D --env dev", "D --env staging", "D --env prod"]),
    ("d --env p", ["d --env prod"]),
    ("?R --env s", ["?R --env staging"]),           # a required option of a chain's step
    ("D --env=st", ["D --env=staging"]),
    ("D --replicas 2 --env d", ["D --replicas 2 --env dev"]),
])
def test_tab_completes_a_choice_options_values(app: Falyx, text: str, offered: list[str]) -> None:
    assert completions(app, text) == offered


@pytest.mark.parametrize(("typed", "words"), [
    ("D --env ", "run D --env "),
    ("R --ref x --env ", "run R --ref x --env "),
    ("O.S --d", "run O.S --d"),
    ("D --re", "run D --re"),
    ("D --env prod --r", "deploy --env prod --r"),
])
def test_tab_offers_what_the_shell_completion_offers(app: Falyx, typed: str, words: str) -> None:
    menu = [offered[len(typed) - len(typed.rsplit(" ", 1)[-1]):]
            for offered in completions(app, typed)]
    assert menu == shell(app, f"deploy_app {words}")
    assert menu  # something was offered


def test_an_option_already_given_is_not_offered_again(app: Falyx) -> None:
    offered = completions(app, "D --env prod --")
    assert "D --env prod --replicas" in offered
    assert "D --env prod --env" not in offered


def test_after_a_key_and_a_space_tab_offers_its_long_options(app: Falyx) -> None:
    offered = completions(app, "D ")
    assert offered[:2] == ["D --env", "D --replicas"]
    assert "D --skip-confirm" in offered and not any(o.startswith("D -y") for o in offered)


def test_tab_completes_a_path_options_value_from_the_file_system(
    app: Falyx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "builds").mkdir()
    (tmp_path / "build.log").write_text("")
    monkeypatch.chdir(tmp_path)

    assert sorted(completions(app, "P --out-dir bui")) == ["P --out-dir build.log",
                                                           "P --out-dir builds"]


def test_tab_offers_only_folders_for_a_path_option_that_takes_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = Falyx("T", program="t")

    @app.command(key="C")
    def clean(where: Annotated[Path, typer.Option(file_okay=False)] = Path(".")) -> None: ...

    (tmp_path / "builds").mkdir()
    (tmp_path / "build.log").write_text("")
    monkeypatch.chdir(tmp_path)

    assert completions(app, "C --where bui") == ["C --where builds"]


@pytest.mark.parametrize(("text", "offered"), [
    ("O.", ["O.S", "O.C"]),
    ("o.s", ["O.S"]),
    ("?O.c", ["?O.C"]),
    ("X.", []),     # not a submenu
    ("D.", []),     # a command, not a menu
])
def test_tab_completes_paths_into_submenus(app: Falyx, text: str, offered: list[str]) -> None:
    assert completions(app, text) == offered


def test_tab_completes_a_commands_options_at_depth(app: Falyx) -> None:
    ops = app.get("O.S") and app.submenus["O"].app

    assert completions(app, "S --d", at=ops) == ["S --detail"]
    assert completions(app, "O.S --d") == ["O.S --detail"]
    assert completions(app, "nope --d", at=ops) == []


# -- what a line shows ---------------------------------------------------------------------
def run_line(app: Falyx, line: str, at: Falyx | None = None) -> None:
    assert asyncio.run(handle_entry(at or app, Session(never_prompt=True), line,
                                    parser(app))) is None


def test_key_help_in_the_menu_shows_the_key_not_the_cli_subcommand(
    app: Falyx, capsys: pytest.CaptureFixture[str]
) -> None:
    ops = app.submenus["O"].app
    run_line(app, "d --help")
    root = capsys.readouterr().out
    run_line(app, "o.s -h")
    path = capsys.readouterr().out
    run_line(app, "s --help", at=ops)
    depth = capsys.readouterr().out

    assert "Usage: D [OPTIONS]" in root and "deploy_app" not in root
    assert "Usage: O.S [OPTIONS]" in path
    assert "Usage: S [OPTIONS]" in depth and "--detail" in depth


def test_bad_words_at_depth_are_named_as_typed_at_that_prompt(
    app: Falyx, capsys: pytest.CaptureFixture[str]
) -> None:
    ops = app.submenus["O"].app
    run_line(app, "s --bogus", at=ops)
    run_line(app, "o.s --bogus")

    assert capsys.readouterr().err.splitlines() == [
        "Error: S: No such option: --bogus.", "Error: O.S: No such option: --bogus."]


def test_a_preview_at_depth_is_headed_by_the_commands_path(
    app: Falyx, capsys: pytest.CaptureFixture[str]
) -> None:
    run_line(app, "?s --detail", at=app.submenus["O"].app)

    assert capsys.readouterr().err.splitlines()[:2] == [
        "Command: 'O.S' — Show the status.", "├── ⚑ Arguments: detail=True"]


def test_the_help_hint_has_no_example_key_that_means_back_in_a_submenu(app: Falyx) -> None:
    ops = app.submenus["O"].app
    for level in (app, ops):
        hint = _help_text(level)
        assert "KEY --name VALUE" in hint
        assert "B --" not in hint
    assert "B goes back" in _help_text(ops)
