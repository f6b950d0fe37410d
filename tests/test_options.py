"""Run-time options: `--retries N` is exact (DESIGN §2.3, §2.10 `retry_all`)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from falyx import Action, ChainedAction, Falyx, RetryPolicy
from falyx.testing import run_cli
from tests.conftest import ROOT, subprocess_env
from tests.helpers_engine import RecordingSleep


class Flaky:
    """Fails its first `failures` calls, then returns its name."""

    def __init__(self, name: str, failures: int) -> None:
        self.name = name
        self.failures = failures
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(f"{self.name} failure {self.calls}")
        return self.name


async def run_with_retries(app: Falyx, key: str, retries: int) -> bool:
    """`run KEY --retries N` in-process, with an instant retry sleep; True if it succeeded."""
    ctx, options = app.prepare(app.get(key), overrides={"max_retries": retries},
                               sleep=RecordingSleep())
    try:
        await app.drive(ctx, options)
    except RuntimeError:
        return False
    return True


# Where the command's policy lives: on the leaves (retry_all), on the command itself, on one
# step of the chain, or nowhere (then --retries gives the chain a policy, as before).
MODES = ["retry_all", "command", "step", "none"]


def _app(mode: str, bodies: list[Flaky]) -> Falyx:
    steps = [Action(b.name, b, retry=RetryPolicy(delay=0) if mode == "step" and i == 0 else False)
             for i, b in enumerate(bodies)]
    app = Falyx("t", program="retries-test")
    options: dict[str, Any] = {
        "retry_all": {"retry_all": True, "retry": RetryPolicy(max_retries=7)},
        "command": {"retry": RetryPolicy(max_retries=7)},
    }.get(mode, {})
    app.add_command("R", "Release", ChainedAction("release", steps), **options)
    return app


def _expected_calls(mode: str, failures: list[int], retries: int) -> tuple[bool, list[int]]:
    """How often each body runs: each failing step tries exactly 1 + N times."""
    calls = [0] * len(failures)
    if mode in ("retry_all", "step"):  # per leaf (in "step" mode only the first has a policy)
        for i, fails in enumerate(failures):
            allowed = retries if (mode == "retry_all" or i == 0) else 0
            calls[i] = min(fails, allowed) + 1
            if fails > allowed:
                return False, calls
        return True, calls
    left = list(failures)  # the whole chain (or command) is re-run from the start
    for _ in range(1 + retries):
        for i in range(len(left)):
            calls[i] += 1
            if left[i]:
                left[i] -= 1
                break
        else:
            return True, calls
    return False, calls


@settings(max_examples=120, deadline=None)
@given(mode=st.sampled_from(MODES), retries=st.integers(0, 4),
       failures=st.lists(st.integers(0, 6), min_size=1, max_size=4))
async def test_retries_n_makes_each_failing_step_try_exactly_one_plus_n_times(
    mode: str, retries: int, failures: list[int]
) -> None:
    bodies = [Flaky(f"s{i}", fails) for i, fails in enumerate(failures)]
    app = _app(mode, bodies)
    ok = await run_with_retries(app, "R", retries)
    assert (ok, [b.calls for b in bodies]) == _expected_calls(mode, failures, retries)
    records = {r.name: r for r in app.registry.records()}
    if mode in ("retry_all", "step", "command"):  # the chain itself is never re-run
        assert records["release"].attempts == 1
    if mode == "retry_all":
        for body in bodies:
            if body.name in records:
                assert records[body.name].attempts == body.calls


def test_retries_on_a_retry_all_command_never_reruns_the_chain() -> None:
    first, second = Flaky("step_1", 2), Flaky("step_2", 0)
    app = _app("retry_all", [first, second])

    result = run_cli(app, ["run", "R", "--retries", "1", "--retry-delay", "0", "--json"])

    assert result.exit_code == 1
    assert (first.calls, second.calls) == (2, 0)
    assert json.loads(result.stdout.splitlines()[-1])["error"] == (
        "RuntimeError: step_1 failure 2")


def test_retries_on_a_command_without_any_policy_still_retries_the_whole_action() -> None:
    first, second = Flaky("step_1", 0), Flaky("step_2", 1)
    app = _app("none", [first, second])

    result = run_cli(app, ["run", "R", "--retries", "1", "--retry-delay", "0"])

    assert result.exit_code == 0, result.stderr
    assert (first.calls, second.calls) == (2, 2)


@pytest.mark.slow
def test_the_seed_example_fails_when_step_1_fails_more_often_than_retries_allow() -> None:
    # FALYX_DEMO_SEED=4: step_1 fails twice, then both steps would succeed.
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "simple.py"), "run", "r", "-y", "--retries",
         "1", "--retry-delay", "0", "--json"],
        capture_output=True, text=True, timeout=60, env=subprocess_env(FALYX_DEMO_SEED="4"),
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [json.dumps(json.loads(done.stdout))]  # no "ok" printed
    assert json.loads(done.stdout)["error"] == "RuntimeError: Random failure!"
    assert done.stderr.count("Retry attempt 1/1 failed") == 1
