"""ActionGroup: concurrency, declaration-order results, ActionGroupError, fail_fast, rollback."""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from falyx import Action, ActionGroup, ChainedAction, RetryPolicy
from falyx.errors import ActionGroupError, EmptyGroupError, FalyxError
from tests.helpers_engine import isolated_run

if sys.version_info >= (3, 11):
    from builtins import ExceptionGroup
else:  # pragma: no cover - the 3.10 run of `make test-all`
    from exceptiongroup import ExceptionGroup


class Gated:
    """A group member that finishes only when its gate opens, so tests pick the order."""

    def __init__(self, name: str, log: dict[str, Any], fail: bool = False) -> None:
        self.name = name
        self.log = log
        self.fail = fail
        self.gate = asyncio.Event()
        self.finished = asyncio.Event()
        self.error = RuntimeError(f"{name} failed")

    async def __call__(self, *args: Any, **kwargs: Any) -> str:
        self.log.setdefault("calls", {})[self.name] = (args, kwargs)
        try:
            await self.gate.wait()
            self.log.setdefault("completed", []).append(self.name)
            if self.fail:
                raise self.error
            return f"{self.name} result"
        finally:
            self.finished.set()

    async def undo(self, *args: Any, **kwargs: Any) -> None:
        self.log.setdefault("undone", []).append((self.name, args, kwargs))


async def release_in(order: list[Gated]) -> None:
    for member in order:
        member.gate.set()
        await member.finished.wait()


# -- the invariant -------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    data=st.data(),
    size=st.integers(1, 6),
    fail_at=st.none() | st.integers(0, 5),
    with_rollback=st.lists(st.booleans(), min_size=6, max_size=6),
)
async def test_results_follow_declaration_order_and_failures_roll_back_the_rest(
    data: st.DataObject, size: int, fail_at: int | None, with_rollback: list[bool]
) -> None:
    order = data.draw(st.permutations(range(size)), label="completion order")
    log: dict[str, Any] = {}
    members = [Gated(f"m{i}", log, fail=i == fail_at) for i in range(size)]
    actions = [Action(m.name, m, args=(m.name,), rollback=m.undo if with_rollback[i] else None)
               for i, m in enumerate(members)]
    with isolated_run():
        task = asyncio.ensure_future(ActionGroup("g", actions)("shared", flag=True))
        await release_in([members[i] for i in order])
        outcome = await asyncio.gather(task, return_exceptions=True)
    result = outcome[0]

    assert log["completed"] == [f"m{i}" for i in order]
    assert log["calls"] == {m.name: (("shared", m.name), {"flag": True}) for m in members}
    expected_pairs = [(m.name, f"{m.name} result") for m in members if not m.fail]
    if fail_at is None or fail_at >= size:
        assert result == expected_pairs
        assert "undone" not in log
        return
    assert isinstance(result, ActionGroupError)
    assert len(result.exceptions) == 1
    assert result.exceptions[0] is members[fail_at].error
    assert result.results == expected_pairs
    assert f"m{fail_at}" in str(result)
    expected_undo = {(m.name, ("shared", m.name), (("flag", True),))
                     for i, m in enumerate(members) if with_rollback[i] and not m.fail}
    undone = {(n, a, tuple(k.items())) for n, a, k in log.get("undone", [])}
    assert undone == expected_undo
    assert len(log.get("undone", [])) == len(expected_undo)


# -- results and arguments -----------------------------------------------------------------


async def test_results_are_in_declaration_order_when_the_last_member_finishes_first(
    registry,
) -> None:
    log: dict[str, Any] = {}
    first, second = Gated("first", log), Gated("second", log)
    task = asyncio.ensure_future(ActionGroup("g", [Action("first", first),
                                                   Action("second", second)])())
    await release_in([second, first])
    assert await task == [("first", "first result"), ("second", "second result")]
    assert log["completed"] == ["second", "first"]


async def test_every_member_receives_the_groups_args(registry) -> None:
    async def echo(*args: Any, **kwargs: Any) -> Any:
        return args, kwargs

    result = await ActionGroup("g", [Action("a", echo), Action("b", echo, args=("own",))])(
        1, key="v")
    assert result == [("a", ((1,), {"key": "v"})), ("b", ((1, "own"), {"key": "v"}))]


async def test_sync_members_run_concurrently_in_threads(registry) -> None:
    barrier = threading.Barrier(2, timeout=5)

    def meet(name: str) -> str:
        barrier.wait()  # only returns once both members are running at the same time
        return name

    group = ActionGroup("g", [Action("a", meet, args=("a",)), Action("b", meet, args=("b",))])
    assert await group() == [("a", "a"), ("b", "b")]


async def test_empty_group_raises_empty_group_error_naming_the_group(registry) -> None:
    with pytest.raises(EmptyGroupError, match="'nobody'") as info:
        await ActionGroup("nobody", [])()
    assert isinstance(info.value, FalyxError)


async def test_literal_members_return_themselves(registry) -> None:
    result = await ActionGroup("g", [5, "text"])()
    assert [value for _, value in result] == [5, "text"]


# -- ActionGroupError --------------------------------------------------------------------


async def _ok() -> str:
    return "fine"


async def _value_error() -> None:
    raise ValueError("bad value")


async def _key_error() -> None:
    raise KeyError("missing")


async def test_group_error_is_an_exception_group_and_a_falyx_error(registry) -> None:
    group = ActionGroup("checks", [Action("lint", _value_error), Action("docs", _ok),
                                   Action("types", _key_error)])
    with pytest.raises(ActionGroupError) as info:
        await group()
    error = info.value
    assert isinstance(error, ExceptionGroup) and isinstance(error, FalyxError)
    assert [type(e) for e in error.exceptions] == [ValueError, KeyError]
    assert error.results == [("docs", "fine")]
    assert "'checks'" in str(error) and "lint" in str(error) and "types" in str(error)
    assert "docs" not in str(error)
    assert "2 of 3 failed" in str(error)
    assert error.exit_code == 1


async def test_group_error_can_be_split_like_any_exception_group(registry) -> None:
    with pytest.raises(ActionGroupError) as info:
        await ActionGroup("g", [Action("a", _value_error), Action("b", _key_error)])()
    values, rest = info.value.split(ValueError)
    assert isinstance(values, ActionGroupError)
    assert [type(e) for e in values.exceptions] == [ValueError]
    assert [type(e) for e in rest.exceptions] == [KeyError]


async def test_group_records_every_member_and_itself(registry) -> None:
    with pytest.raises(ActionGroupError):
        await ActionGroup("g", [Action("a", _ok), Action("b", _value_error)])()
    status = {r.name: r.status for r in registry.records()}
    assert status == {"a": "OK", "b": "ERROR", "g": "ERROR"}
    run_ids = {r.run_id for r in registry.records()}
    assert len(run_ids) == 1


# -- fail_fast ---------------------------------------------------------------------------


def hang_and_boom() -> tuple[Any, Any]:
    """A member that waits forever once started, and one that fails once the other started."""
    sibling_started = asyncio.Event()

    async def hang() -> None:
        sibling_started.set()
        await asyncio.Event().wait()

    async def boom() -> None:
        await sibling_started.wait()
        raise ValueError("boom")

    return hang, boom


async def test_fail_fast_cancels_the_siblings(registry) -> None:
    hang, boom = hang_and_boom()

    group = ActionGroup("g", [Action("slow", hang), Action("boom", boom)], fail_fast=True)
    with pytest.raises(ActionGroupError) as info:
        await group()
    assert [type(e) for e in info.value.exceptions] == [ValueError]
    assert "boom" in str(info.value) and "slow" not in str(info.value)
    status = {r.name: r.status for r in registry.records()}
    assert status == {"slow": "CANCELLED", "boom": "ERROR", "g": "ERROR"}


async def test_without_fail_fast_siblings_finish_after_a_failure(registry) -> None:
    log: dict[str, Any] = {}
    failing, other = Gated("failing", log, fail=True), Gated("other", log)
    task = asyncio.ensure_future(ActionGroup("g", [Action("failing", failing),
                                                   Action("other", other)])())
    await release_in([failing, other])
    with pytest.raises(ActionGroupError) as info:
        await task
    assert info.value.results == [("other", "other result")]
    assert registry.records(name="other")[0].status == "OK"


async def test_fail_fast_rolls_back_members_that_completed(registry) -> None:
    undone: list[str] = []
    hang, boom = hang_and_boom()

    group = ActionGroup("g", [
        Action("quick", _ok, rollback=lambda *a, **k: undone.append("quick")),
        Action("slow", hang, rollback=lambda *a, **k: undone.append("slow")),
        Action("boom", boom, rollback=lambda *a, **k: undone.append("boom")),
    ], fail_fast=True)
    with pytest.raises(ActionGroupError):
        await group()
    assert undone == ["quick"]


# -- rollback ----------------------------------------------------------------------------


async def test_failed_group_rolls_back_its_successful_members(registry) -> None:
    undone: list[Any] = []

    async def ok(*args: Any, **kwargs: Any) -> str:
        return "fine"

    async def fails(*args: Any, **kwargs: Any) -> None:
        raise ValueError("bad value")

    group = ActionGroup("g", [
        Action("a", ok, args=(1,), rollback=lambda *a, **k: undone.append(("a", a, k))),
        Action("b", fails, rollback=lambda *a, **k: undone.append(("b", a, k))),
        Action("c", ok, rollback=lambda *a, **k: undone.append(("c", a, k))),
    ])
    with pytest.raises(ActionGroupError):
        await group(0, flag=True)
    assert sorted(undone) == [("a", (0, 1), {"flag": True}), ("c", (0,), {"flag": True})]


async def test_completed_group_in_a_chain_rolls_back_when_a_later_step_fails(registry) -> None:
    undone: list[str] = []
    group = ActionGroup("g", [
        Action("a", _ok, rollback=lambda *a, **k: undone.append("a")),
        Action("b", _ok, rollback=lambda *a, **k: undone.append("b")),
    ])
    with pytest.raises(ValueError):
        await ChainedAction("c", [group, Action("fail", _value_error)])()
    assert sorted(undone) == ["a", "b"]


async def test_cancelling_a_group_cancels_members_and_rolls_back_finished_ones(
    registry,
) -> None:
    undone: list[str] = []
    started = asyncio.Event()

    async def hang() -> None:
        started.set()
        await asyncio.Event().wait()

    group = ActionGroup("g", [Action("done", _ok, rollback=lambda *a, **k: undone.append("d")),
                              Action("hang", hang)])
    task = asyncio.ensure_future(group())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert undone == ["d"]
    status = {r.name: r.status for r in registry.records() if r.kind != "Rollback"}
    assert status == {"done": "OK", "hang": "CANCELLED", "g": "CANCELLED"}


async def test_retry_on_a_group_reruns_it_after_rolling_back(registry, fake_sleep) -> None:
    events: list[str] = []
    calls = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first time fails")
        return "ok"

    async def steady() -> str:
        events.append("steady")
        return "steady"

    group = ActionGroup("g", [
        Action("steady", steady, rollback=lambda *a, **k: events.append("undo steady")),
        Action("flaky", flaky),
    ], retry=RetryPolicy(max_retries=2))
    assert await group() == [("steady", "steady"), ("flaky", "ok")]
    assert events == ["steady", "undo steady", "steady"]
    assert registry.records(name="g")[0].attempts == 2
