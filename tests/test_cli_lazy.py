"""Subcommands are built on first use; listing them shows the same help (falyx.cli.lazy)."""

from __future__ import annotations

import io
from contextlib import redirect_stdout, suppress
from typing import Any

import pytest
import typer
import typer.main

from falyx import Falyx
from falyx.cli.options import compile_app
from falyx.testing import run_cli


def make_app() -> Falyx:
    app = Falyx("Tools", program="tools")

    @app.command(key="B", tags=["ci"])
    def build(target: str = "prod") -> str:
        """Build the artefact."""
        return target

    @app.command(key="N")
    def noop() -> None:
        """Do nothing."""

    @app.command(key="S", hidden=True)
    def secret() -> None:
        """Not listed."""

    return app


def run_group(group: Any, argv: list[str]) -> str:
    """Run the compiled group on `argv` (not standalone); what it printed on stdout."""
    out = io.StringIO()
    with redirect_stdout(out), suppress(SystemExit):
        group.main(args=argv, prog_name="tools", standalone_mode=False)
    return out.getvalue()


def built(group: Any) -> set[str]:
    """The subcommands that have been built: a stub has no callback, a real one has."""
    return {name for name, command in group.commands.items() if command.callback}


def test_help_lists_every_visible_subcommand_in_order_without_building_any() -> None:
    group = compile_app(make_app())

    text = run_group(group, ["--help"])

    panel = text[text.index("Commands"):].splitlines()[1:]
    rows = [line for line in panel if line.startswith("│ ") and not line.startswith("│  ")]
    listed = [row.split()[1] for row in rows]  # continuation lines of a wrapped help skipped
    assert listed == ["build", "noop", "preview", "help", "run-all", "history", "run"]
    assert "Build the artefact." in rows[0]
    assert built(group) == set()


def test_a_run_builds_only_the_subcommands_it_goes_through() -> None:
    app = make_app()
    group = compile_app(app)

    with pytest.raises(SystemExit) as exit_info:
        app(["run", "N", "-y"])  # compiles its own group; check the route on this one
    run_group(group, ["run", "N", "-y"])

    assert exit_info.value.code == 0
    assert built(group) == {"run", "noop"}


def test_get_command_from_outside_returns_the_real_command() -> None:
    group = compile_app(make_app())
    ctx = group.make_context("tools", ["noop"], resilient_parsing=True)

    command = group.get_command(ctx, "build")

    assert [p.name for p in command.params][:1] == ["target"]
    assert built(group) == {"build"}


def test_an_unknown_subcommand_still_gets_typers_suggestion() -> None:
    result = run_cli(make_app(), ["biuld"])

    assert result.exit_code == 2
    assert "No such command 'biuld'. Did you mean 'build'?" in result.stderr


def test_the_help_of_a_mounted_app_lists_its_commands() -> None:
    outer = typer.Typer()
    outer.command("other")(lambda: None)
    outer.add_typer(make_app().typer, name="ops")

    text = run_group(typer.main.get_command(outer), ["ops", "--help"])

    assert "build" in text and "run-all" in text and "secret" not in text


def test_completion_of_subcommand_names_lists_them_with_their_help() -> None:
    group = compile_app(make_app())
    ctx = group.make_context("tools", [], resilient_parsing=True)

    items = {item.value: item.help for item in group.shell_complete(ctx, "b")}

    assert items == {"build": "Build the artefact."}
    assert built(group) == set()


def test_a_submenu_is_a_lazy_group_of_its_own() -> None:
    app, ops = make_app(), Falyx("Ops", program="ops")
    ops.add_command("R", "Restart the service", lambda: None, name="restart")
    app.add_submenu("O", "Ops", ops)
    group = compile_app(app)

    root_help = run_group(group, ["--help"])
    ops_help = run_group(group, ["ops", "--help"])

    assert "Ops (menu O)" in root_help
    assert "restart" in ops_help and "Restart the service" in ops_help
    assert built(group) == {"ops"}
    assert built(group.commands["ops"]) == set()
