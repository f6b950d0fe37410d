"""ExecutionContext and SharedContext: fields, UTC times, as_dict, parent/run links."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from falyx import Action, ActionGroup, ChainedAction, ExecutionContext, SharedContext
from falyx.context import current_context

#: Every field DESIGN §2.2 names for a context.
CONTRACT_FIELDS = [
    "name", "action", "args", "kwargs", "result", "exception", "traceback", "start_wall",
    "end_wall", "duration", "status", "attempts", "run_id", "parent", "extra", "shared",
]


async def double(x: int, *, factor: int = 2) -> int:
    return x * factor


async def explode() -> None:
    raise ValueError("kaboom")


async def test_context_holds_the_finished_execution(registry) -> None:
    step = Action("double", double, args=(), kwargs={"factor": 3})
    assert await step(7) == 21
    ctx = registry.latest()
    assert (ctx.name, ctx.action, ctx.args, ctx.kwargs) == ("double", step, (7,), {"factor": 3})
    assert (ctx.result, ctx.exception, ctx.traceback) == (21, None, None)
    assert (ctx.status, ctx.attempts, ctx.kind) == ("OK", 1, "Action")
    assert ctx.duration is not None and ctx.duration >= 0
    assert ctx.extra == {} and ctx.shared is None and ctx.hook_errors == []
    assert ctx.success


async def test_as_dict_holds_every_contract_field(registry) -> None:
    await Action("double", double)(1)
    record = registry.latest().as_dict()
    assert set(CONTRACT_FIELDS) <= set(record)
    assert record["name"] == "double" and record["result"] == 2 and record["status"] == "OK"
    assert record["parent"] is None


async def test_wall_times_are_utc_aware_datetimes(registry) -> None:
    await Action("double", double)(1)
    ctx = registry.latest()
    for moment in (ctx.start_wall, ctx.end_wall, ctx.as_dict()["start_wall"]):
        assert moment is not None
        assert moment.tzinfo is timezone.utc
        assert moment.utcoffset() == timedelta(0)
    assert ctx.start_wall <= ctx.end_wall


def test_every_contract_field_is_a_dataclass_field() -> None:
    names = [f.name for f in dataclasses.fields(ExecutionContext)]
    assert names[: len(CONTRACT_FIELDS)] == CONTRACT_FIELDS  # in §2.2's order, first
    assert set(inspect.signature(ExecutionContext).parameters) == set(names)


async def test_asdict_and_replace_see_every_field_with_its_value(registry) -> None:
    async def tagging(x: int) -> int:
        current_context().extra["tag"] = "v1"
        return x

    await ChainedAction("c", [Action("tagging", tagging)])(3)
    ctx = registry.records(name="tagging")[0]
    as_dict = dataclasses.asdict(ctx)
    assert set(as_dict) == {f.name for f in dataclasses.fields(ExecutionContext)}
    assert as_dict["extra"] == {"tag": "v1"} and as_dict["result"] == 3
    assert as_dict["start_wall"] == ctx.start_wall and as_dict["start_wall"].tzinfo is timezone.utc
    clone = dataclasses.replace(ctx)
    for field in dataclasses.fields(ExecutionContext):
        assert getattr(clone, field.name) == getattr(ctx, field.name), field.name
    assert clone.extra is ctx.extra  # replace is shallow, like for any dataclass


def test_replace_sets_wall_times_and_extra_explicitly() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    ctx = dataclasses.replace(ExecutionContext("s"), start_wall=moment, extra={"k": 1})
    assert (ctx.start_wall, ctx.end_wall, ctx.extra) == (moment, None, {"k": 1})
    ctx.end_wall = moment
    assert ctx.end_wall == moment


def test_wall_times_follow_the_epoch_clock_until_set() -> None:
    ctx = ExecutionContext("s", start=0.0, end=1.5)
    assert ctx.start_wall == datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert ctx.end_wall - ctx.start_wall == timedelta(seconds=1.5)
    ctx.start = 60.0  # derived on every read: never a stale copy
    assert ctx.start_wall == datetime(1970, 1, 1, 0, 1, tzinfo=timezone.utc)


def test_extra_and_hook_errors_are_made_once_on_first_read() -> None:
    ctx = ExecutionContext("s")
    assert ctx.extra is ctx.extra and ctx.hook_errors is ctx.hook_errors
    ctx.extra["k"] = 1
    assert ctx.as_dict()["extra"] == {"k": 1}
    given = {"mine": True}
    assert ExecutionContext("t", extra=given).extra is given
    ctx.extra = None  # back to "not made yet", never a None where a dict is promised
    assert ctx.extra == {}


def test_a_context_pickles_and_copies_with_every_field() -> None:
    ctx = ExecutionContext("s", kwargs={"a": 1}, start=5.0, extra={"k": 2}, status="OK")
    for clone in (pickle.loads(pickle.dumps(ctx)), copy.copy(ctx)):
        assert (clone.kwargs, clone.start, clone.extra, clone.status) == (
            {"a": 1}, 5.0, {"k": 2}, "OK")
        assert clone.start_wall == ctx.start_wall


def test_wall_times_are_none_before_the_run() -> None:
    ctx = ExecutionContext("not yet")
    assert (ctx.start_wall, ctx.end_wall, ctx.status) == (None, None, "RUNNING")


async def test_failed_context_keeps_the_exception_and_traceback(registry) -> None:
    with pytest.raises(ValueError):
        await Action("explode", explode)()
    ctx = registry.latest()
    assert ctx.status == "ERROR" and not ctx.success
    assert isinstance(ctx.exception, ValueError)
    assert "ValueError: kaboom" in ctx.traceback
    assert ctx.result is None


async def test_top_level_context_has_no_parent(registry) -> None:
    await Action("double", double)(1)
    assert registry.latest().parent is None


async def test_run_records_share_a_run_id_and_link_parents_into_a_tree(registry) -> None:
    async def increment(last_result: int) -> int:
        return last_result + 1

    inner = ChainedAction("inner", [Action("a", increment), Action("b", increment)],
                          auto_inject=True)
    outer = ChainedAction("outer", [Action("first", double), inner], auto_inject=True)
    assert await outer(1) == 4
    records = registry.records()
    by_name = {r.name: r for r in records}
    assert len({r.run_id for r in records}) == 1
    assert by_name["outer"].parent is None
    assert by_name["first"].parent is by_name["outer"]
    assert by_name["inner"].parent is by_name["outer"]
    assert by_name["a"].parent is by_name["inner"]
    assert by_name["b"].parent is by_name["inner"]
    assert by_name["a"].as_dict()["parent"] == by_name["inner"].id
    assert registry.records(run_id=by_name["outer"].run_id) == records


async def test_each_top_level_run_gets_its_own_run_id(registry) -> None:
    step = Action("double", double)
    await step(1)
    await step(2)
    first, second = registry.records()
    assert first.run_id and second.run_id and first.run_id != second.run_id


async def test_current_context_is_the_running_steps_context(registry) -> None:
    seen: list[Any] = []

    def sync_body() -> None:  # runs in a worker thread; the context travels with it
        seen.append(current_context())

    async def async_body() -> None:
        seen.append(current_context())

    await ChainedAction("c", [Action("sync", sync_body), Action("async", async_body)])()
    assert [ctx.name for ctx in seen] == ["sync", "async"]
    assert current_context() is None


async def test_chain_members_share_the_chains_shared_context(registry) -> None:
    seen: list[Any] = []

    async def second() -> None:
        ctx = current_context()
        seen.append((ctx.shared.name, ctx.shared.kind, ctx.shared.last_result))

    await ChainedAction("pipeline", [Action("first", double, args=(5,)), second])()
    assert seen == [("pipeline", "chain", 10)]


async def test_group_members_share_the_groups_shared_context(registry) -> None:
    kinds: list[str] = []

    async def member() -> None:
        kinds.append(current_context().shared.kind)

    await ActionGroup("g", [Action("m1", member), Action("m2", member)])()
    assert kinds == ["group", "group"]


async def test_record_result_false_hides_the_result_from_the_record(registry) -> None:
    assert await Action("secret", double, record_result=False)(4) == 8
    ctx = registry.latest()
    assert ctx.record_result is False
    assert ctx.as_dict()["result"] is None


def test_recover_turns_a_failure_into_success() -> None:
    ctx = ExecutionContext("s")
    ctx.fail(ValueError("no"))
    assert ctx.status == "ERROR" and "ValueError: no" in ctx.traceback
    ctx.recover(42)
    assert (ctx.status, ctx.result, ctx.exception, ctx.traceback) == ("OK", 42, None, None)
    assert ctx.recovered


def test_fail_as_cancelled_keeps_no_traceback() -> None:
    ctx = ExecutionContext("s")
    ctx.fail(KeyboardInterrupt(), "CANCELLED")
    assert ctx.status == "CANCELLED" and ctx.traceback is None
    assert isinstance(ctx.exception, KeyboardInterrupt)


def test_shared_context_stores_results_and_data() -> None:
    shared = SharedContext("pipeline")
    assert shared.last_result is None
    shared.results.extend([1, 2])
    shared.set("token", "abc")
    assert shared.last_result == 2
    assert (shared.get("token"), shared.get("missing", "default")) == ("abc", "default")


def test_context_repr_names_the_step_and_status() -> None:
    assert "name='s'" in repr(ExecutionContext("s")) and "RUNNING" in repr(ExecutionContext("s"))
