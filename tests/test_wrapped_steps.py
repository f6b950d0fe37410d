"""`Action(name, step)`: a step wrapping a step delegates to it (DESIGN §2.1).

Its parameters (CLI options, routing, required options, preview) are the inner step's, less
the ones its stored `kwargs` fill; a call hands the inner step exactly what it declares; the
inner step runs its own lifecycle as a child, and its rollback is undone with the wrapper's.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from falyx import Action, chain
from falyx.action import ShellAction
from falyx.errors import StepTimeoutError
from falyx.testing import run_cli
from tests.apps import wrap_app
from tests.conftest import ROOT, subprocess_env

APP = ROOT / "tests" / "apps" / "wrap_app.py"


def test_wrapping_a_decorated_command_keeps_its_options_through_a_real_cli() -> None:
    done = subprocess.run([sys.executable, str(APP), "run", "W", "-y", "--secs", "0.01",
                           "--count", "4", "--json"], capture_output=True, text=True,
                          timeout=60, cwd=ROOT, env=subprocess_env(FALYX_HISTORY="off"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "a 4"
    assert json.loads(lines[-1])["result"] == "slept 0.01"


def test_the_wrappers_timeout_applies_to_the_inner_step() -> None:
    result = run_cli(wrap_app.app, ["run", "W", "-y", "--secs", "3"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: StepTimeoutError: step 'slow_to' timed out after 0.5s")


def test_a_keyword_of_another_step_is_not_handed_to_the_wrapped_step() -> None:
    result = run_cli(wrap_app.app, ["run", "W", "-y", "--count", "2", "--secs", "0"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "a 2\n"


def test_a_required_option_of_the_wrapped_step_is_required() -> None:
    missing = run_cli(wrap_app.app, ["run", "T", "-y"])
    assert missing.exit_code == 2 and "--target" in missing.stderr
    given = run_cli(wrap_app.app, ["run", "T", "-y", "--target", "prod", "--replicas", "5"])
    assert given.exit_code == 0, given.stderr
    assert given.stdout == "deploy prod x5\n"


def test_a_wrapped_chain_routes_each_option_and_stored_kwargs_fill_theirs() -> None:
    help_text = run_cli(wrap_app.app, ["run", "C", "--help"]).stdout
    assert "--count" in help_text and "--target" in help_text
    assert "--replicas" not in help_text  # the wrapper's stored kwargs fill it
    result = run_cli(wrap_app.app, ["run", "C", "-y", "--count", "7", "--target", "qa"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "a 7\ndeploy qa x3\n"


def test_a_wrapped_shell_step_takes_its_placeholders_as_options() -> None:
    result = run_cli(wrap_app.app, ["run", "S", "-y", "--who", "there"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "hi there\n"


def test_the_preview_shows_the_inner_step_under_the_wrapper() -> None:
    result = run_cli(wrap_app.app, ["preview", "W"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-3:] == [
        "    └── ⚙ Action 'slow_to'",
        "        ├── ⏱ Timeout: 0.5s",
        "        └── ⚙ Action 'slow_fn'"]


# -- in process: lifecycle, records, rollback --------------------------------------------------
async def test_the_inner_step_runs_as_a_child_and_is_undone_before_the_wrapper(registry) -> None:
    events: list[str] = []

    def build(target: str = "x") -> str:
        events.append(f"build {target}")
        return target

    def fail() -> None:
        raise RuntimeError("deploy failed")

    inner = Action("build", build, rollback=lambda target="x": events.append(f"unbuild {target}"))
    wrapper = Action("wrapped", inner, rollback=lambda **kw: events.append(f"unwrap {kw}"))
    with pytest.raises(RuntimeError):
        await chain(wrapper, fail, name="release")(target="prod")

    # as for a composite: what is inside is undone first, then the wrapper's own rollback
    assert events == ["build prod", "unbuild prod", "unwrap {'target': 'prod'}"]
    records = {r.name: r for r in registry.records() if r.kind != "Rollback"}
    assert records["build"].parent is records["wrapped"]
    assert records["wrapped"].parent is records["release"]
    assert [r.name for r in registry.records() if r.kind == "Rollback"] == ["build", "wrapped"]


@pytest.mark.parametrize("inner", [
    lambda: chain(lambda: 1, name="c"),
    lambda: ShellAction("sh", [sys.executable, "-c", "print(1)"]),
    lambda: Action("plain", lambda: 1),
], ids=["chain", "shell", "action"])
def test_a_wrapper_declares_exactly_what_its_inner_step_declares(inner) -> None:
    step = inner()
    wrapper = Action("w", step)
    assert [p.name for p in wrapper.parameters()] == [p.name for p in step.parameters()]
    assert not wrapper.declares("unrelated")
    assert list(wrapper.walk()) == [wrapper, *step.walk()]


async def test_a_wrappers_timeout_cancels_an_async_inner_step(registry) -> None:
    import asyncio

    async def forever() -> None:
        await asyncio.Event().wait()

    with pytest.raises(StepTimeoutError, match=r"^step 'w' timed out after 0\.01s$"):
        await Action("w", Action("inner", forever), timeout=0.01)()
    assert registry.records(name="inner")[0].status == "CANCELLED"
