"""`Command`: `result`, the action it accepts, and its place in the step tree (DESIGN §2.15)."""

from __future__ import annotations

from typing import Any

import pytest

from falyx import Action, ChainedAction, Falyx
from falyx.command import Command
from falyx.testing import run_cli


def _app() -> tuple[Falyx, dict[str, Any]]:
    state: dict[str, Any] = {"fail": False, "value": 1}
    app = Falyx("t", program="command-test")

    def build() -> Any:
        if state["fail"]:
            raise RuntimeError("build broke")
        return state["value"]

    app.add_command("B", "Build", build, name="build")
    app.add_command("L", "Lint", lambda: "clean", name="lint")
    return app, state


async def test_result_is_none_until_the_command_runs() -> None:
    app, _ = _app()
    assert app.get("B").result is None


async def test_result_holds_the_last_result_of_that_command() -> None:
    app, state = _app()
    assert await app.run_key("B") == 1
    state["value"] = {"artefact": "app.tar.gz"}
    await app.run_key("B")
    assert app.get("B").result == {"artefact": "app.tar.gz"}
    assert app.get("L").result is None  # each command has its own
    await app.run_key("L")
    assert (app.get("B").result, app.get("L").result) == ({"artefact": "app.tar.gz"}, "clean")


async def test_result_is_none_after_a_failed_run_and_the_recovered_value_after_recovery() -> None:
    app, state = _app()
    await app.run_key("B")
    state["fail"] = True
    with pytest.raises(RuntimeError):
        await app.run_key("B")
    assert app.get("B").result is None

    @app.on("error")
    def fallback(ctx: Any) -> None:
        ctx.exception, ctx.result = None, "cached build"

    assert await app.run_key("B") == "cached build"
    assert app.get("B").result == "cached build"


def test_result_is_set_by_a_cli_run_in_this_process() -> None:
    app, state = _app()
    state["value"] = 42

    result = run_cli(app, ["build"])

    assert result.exit_code == 0, result.stderr
    assert app.get("B").result == 42


@pytest.mark.parametrize("action", [42, "deploy", None, ["a", "b"]])
def test_an_action_that_is_neither_a_step_nor_callable_is_a_type_error(action: Any) -> None:
    app = Falyx("t", program="command-test")
    with pytest.raises(TypeError, match=r"command 'R': action must be a step or a callable"):
        app.add_command("R", "Release", action)
    assert app.commands == {}


def test_steps_and_callables_are_accepted() -> None:
    step = ChainedAction("c", [Action("a", lambda: 1)])
    assert Command("R", "Release", step).action is step
    assert Command("F", "Func", print).action.fn is print


def test_walk_goes_from_the_command_through_its_action_tree() -> None:
    leaf = Action("a", lambda: 1)
    command = Command("R", "Release", ChainedAction("c", [leaf, leaf]))
    assert [s.name for s in command.walk()] == ["Release", "c", "a"]
