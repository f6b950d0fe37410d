"""Lifecycle hooks: types and aliases, order, recovery, raising hooks, sync/async, mappings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from falyx import (
    Action,
    ActionGroup,
    ChainedAction,
    ExecutionContext,
    Falyx,
    HookManager,
    HookType,
    ProcessAction,
    ProcessPoolAction,
    ProcessTask,
)
from falyx.action.options import RunOptions, current_options, using_options

ALL_TYPES = ["before", "on_success", "on_error", "after", "on_teardown"]


def recording_hooks(events: list[str]) -> dict[str, Callable[[ExecutionContext], None]]:
    """One hook per type, each appending its type to `events`."""
    return {t: (lambda ctx, t=t: events.append(t)) for t in ALL_TYPES}


async def ok_body() -> str:
    return "value"


async def failing_body() -> None:
    raise ValueError("body failed")


# -- HookType ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "member"),
    [("success", HookType.ON_SUCCESS), ("error", HookType.ON_ERROR),
     ("teardown", HookType.ON_TEARDOWN), ("before", HookType.BEFORE),
     ("after", HookType.AFTER), ("on-error", HookType.ON_ERROR),
     ("ON_SUCCESS", HookType.ON_SUCCESS)],
)
def test_hook_type_accepts_names_and_aliases(alias: str, member: HookType) -> None:
    assert HookType(alias) is member


def test_unknown_hook_type_raises_value_error() -> None:
    with pytest.raises(ValueError):
        HookType("sometimes")


def test_register_rejects_non_callable_hooks() -> None:
    with pytest.raises(TypeError, match="callable"):
        HookManager().register("before", "not a function")  # type: ignore[arg-type]


def test_hooks_option_must_be_a_manager_or_mapping() -> None:
    with pytest.raises(TypeError, match="mapping"):
        Action("s", ok_body, hooks=[print])  # type: ignore[arg-type]


def test_register_returns_the_hook_so_it_works_as_a_decorator() -> None:
    manager = HookManager()

    def on_error(ctx: ExecutionContext) -> None:
        pass

    assert manager.register("error", on_error) is on_error
    assert manager.hooks(HookType.ON_ERROR) == [on_error]
    assert "error" in manager and "before" not in manager


# -- order -------------------------------------------------------------------------------


async def test_hooks_run_before_success_after_teardown_on_success(registry) -> None:
    events: list[str] = []
    result = await Action("step_1", ok_body, hooks=recording_hooks(events))()
    assert result == "value"
    assert events == ["before", "on_success", "after", "on_teardown"]


async def test_hooks_run_before_error_after_teardown_on_failure(registry) -> None:
    events: list[str] = []
    with pytest.raises(ValueError, match="body failed"):
        await Action("step_1", failing_body, hooks=recording_hooks(events))()
    assert events == ["before", "on_error", "after", "on_teardown"]


async def test_hooks_receive_the_steps_context(registry) -> None:
    seen: dict[str, tuple[Any, ...]] = {}

    def snapshot(ctx: ExecutionContext) -> None:
        seen[ctx.name] = (ctx.status, ctx.result, ctx.exception)

    await Action("step_1", ok_body, hooks={"success": snapshot})()
    assert seen == {"step_1": ("OK", "value", None)}


async def test_hooks_run_once_per_call_not_once_per_attempt(registry) -> None:
    events: list[str] = []
    calls = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("Random failure!")
        return "ok"

    await Action("step_1", flaky, retry=3, hooks=recording_hooks(events))()
    assert len(calls) == 3
    assert events == ["before", "on_success", "after", "on_teardown"]


# -- recovery and retry ------------------------------------------------------------------


async def test_on_error_hook_recovers_with_a_value(registry) -> None:
    def fallback(ctx: ExecutionContext) -> None:
        assert isinstance(ctx.exception, ValueError)
        ctx.recover("fallback")

    result = await Action("step_1", failing_body, hooks={"error": fallback})()
    record = registry.latest()
    assert result == "fallback"
    assert (record.status, record.result, record.exception) == ("OK", "fallback", None)
    assert record.traceback is None
    assert record.recovered is True


async def test_recovery_with_none_still_succeeds(registry) -> None:
    result = await Action("step_1", failing_body, hooks={"error": lambda c: c.recover(None)})()
    assert result is None
    assert registry.latest().status == "OK"


def _clear_by_hand(value: Any, *, set_result: bool = True, use_async: bool = False):
    """The original Falyx's recovery idiom, as a sync or an async `on_error` hook."""

    def clear(ctx: ExecutionContext) -> None:
        ctx.exception = None
        if set_result:
            ctx.result = value

    async def clear_async(ctx: ExecutionContext) -> None:
        await asyncio.sleep(0)
        clear(ctx)

    return clear_async if use_async else clear


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("value", ["fallback", 0, [1, 2]])
async def test_clearing_the_exception_and_setting_the_result_recovers_like_recover(
    registry, use_async: bool, value: Any
) -> None:
    events: list[tuple[str, str]] = []
    hooks = {"error": _clear_by_hand(value, use_async=use_async),
             "success": lambda c: events.append(("on_success", c.status)),
             "after": lambda c: events.append(("after", c.status))}
    result = await Action("step_1", failing_body, hooks=hooks)()
    record = registry.latest()
    assert result == value
    assert (record.status, record.result, record.exception) == ("OK", value, None)
    assert (record.traceback, record.recovered) == (None, True)
    assert events == [("after", "OK")]  # exactly one of on_success / on_error ran


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_clearing_the_exception_without_a_result_recovers_with_none(
    registry, use_async: bool
) -> None:
    hook = _clear_by_hand(None, set_result=False, use_async=use_async)
    assert await Action("step_1", failing_body, hooks={"error": hook})() is None
    assert (registry.latest().status, registry.latest().recovered) == ("OK", True)


async def test_a_step_recovered_by_hand_feeds_its_value_to_the_next_step(registry) -> None:
    async def double(last_result: int) -> int:
        return last_result * 2

    flaky = Action("flaky", failing_body, hooks={"error": _clear_by_hand(21)})
    assert await ChainedAction("c", [flaky, double], auto_inject=True)() == 42


async def test_a_chain_recovered_by_hand_has_rolled_back_and_returns_the_value(registry) -> None:
    undone: list[str] = []
    pipeline = ChainedAction(
        "c", [Action("a", ok_body, rollback=lambda *a, **k: undone.append("a")), failing_body],
        hooks={"error": _clear_by_hand("recovered")})
    assert await pipeline() == "recovered"
    assert undone == ["a"]
    assert registry.records(name="c")[0].status == "OK"


async def test_a_hook_that_replaces_the_exception_raises_the_replacement(registry) -> None:
    replacement = KeyError("translated")

    def translate(ctx: ExecutionContext) -> None:
        ctx.exception = replacement

    with pytest.raises(KeyError) as info:
        await Action("step_1", failing_body, hooks={"error": translate})()
    assert info.value is replacement


async def test_clearing_the_exception_in_an_after_hook_recovers_too(registry) -> None:
    assert await Action("step_1", failing_body, hooks={"after": _clear_by_hand(7)})() == 7
    assert registry.latest().status == "OK"


async def test_retry_then_success_runs_on_success_with_a_clean_context(registry) -> None:
    events: list[str] = []
    seen: list[tuple[Any, Any]] = []
    calls = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("Random failure!")
        return "ok"

    hooks = recording_hooks(events)
    hooks["on_success"] = [hooks["on_success"], lambda c: seen.append((c.exception, c.traceback))]
    assert await Action("step_1", flaky, retry=1, hooks=hooks)() == "ok"
    record = registry.latest()
    assert "on_success" in events and "on_error" not in events
    assert seen == [(None, None)]
    assert (record.status, record.exception, record.traceback, record.attempts) == (
        "OK", None, None, 2)


# -- raising hooks -----------------------------------------------------------------------


async def test_raising_before_hook_fails_the_step_and_propagates(registry) -> None:
    ran = []
    events: list[str] = []

    async def body() -> str:
        ran.append(1)
        return "value"

    def guard(ctx: ExecutionContext) -> None:
        raise PermissionError("not allowed")

    hooks = recording_hooks(events)
    hooks["before"] = guard
    with pytest.raises(PermissionError, match="not allowed"):
        await Action("step_1", body, hooks=hooks)()
    record = registry.latest()
    assert ran == []
    assert record.status == "ERROR"
    assert isinstance(record.exception, PermissionError)
    assert events == ["on_error", "after", "on_teardown"]


@pytest.mark.parametrize("hook_type", ["on_success", "after", "on_teardown"])
async def test_raising_later_hook_is_logged_and_kept_without_changing_success(
    registry, falyx_log, hook_type: str
) -> None:
    error = RuntimeError("hook broke")

    def broken(ctx: ExecutionContext) -> None:
        raise error

    result = await Action("step_1", ok_body, hooks={hook_type: broken})()
    record = registry.latest()
    assert result == "value"
    assert (record.status, record.exception) == ("OK", None)
    assert [e for _, e in record.hook_errors] == [error]
    assert hook_type in record.hook_errors[0][0]
    assert any(r.levelno == logging.WARNING and "hook broke" in r.getMessage()
               for r in falyx_log.records)


@pytest.mark.parametrize("hook_type", ["on_error", "after", "on_teardown"])
async def test_raising_later_hook_is_kept_without_changing_the_failure(
    registry, hook_type: str
) -> None:
    error = RuntimeError("hook broke")

    def broken(ctx: ExecutionContext) -> None:
        raise error

    with pytest.raises(ValueError, match="body failed"):
        await Action("step_1", failing_body, hooks={hook_type: broken})()
    record = registry.latest()
    assert isinstance(record.exception, ValueError)
    assert record.status == "ERROR"
    assert [e for _, e in record.hook_errors] == [error]


async def test_hooks_after_a_raising_hook_still_run(registry) -> None:
    events: list[str] = []

    def broken(ctx: ExecutionContext) -> None:
        raise RuntimeError("hook broke")

    hooks = {"after": [broken, lambda c: events.append("second after")],
             "teardown": lambda c: events.append("teardown")}
    await Action("step_1", ok_body, hooks=hooks)()
    assert events == ["second after", "teardown"]


# -- sync, async, mappings, composites ---------------------------------------------------


async def test_sync_and_async_hooks_both_run_in_order(registry) -> None:
    events: list[str] = []

    def sync_hook(ctx: ExecutionContext) -> None:
        events.append("sync")

    async def async_hook(ctx: ExecutionContext) -> None:
        await asyncio.sleep(0)
        events.append("async")

    await Action("step_1", ok_body, hooks={"before": [async_hook, sync_hook],
                                           "after": [sync_hook, async_hook]})()
    assert events == ["async", "sync", "sync", "async"]


async def test_hooks_given_as_a_mapping_of_types_strings_and_lists(registry) -> None:
    events: list[str] = []
    hooks = {
        HookType.BEFORE: lambda c: events.append("before"),
        "success": [lambda c: events.append("success 1"), lambda c: events.append("success 2")],
        "teardown": (lambda c: events.append("teardown"),),
    }
    step = Action("step_1", ok_body, hooks=hooks)
    await step()
    assert isinstance(step.hooks, HookManager)
    assert events == ["before", "success 1", "success 2", "teardown"]


async def test_a_hook_manager_is_used_as_given(registry) -> None:
    manager = HookManager()
    events: list[str] = []
    manager.register("after", lambda c: events.append(c.name))
    step = Action("step_1", ok_body, hooks=manager)
    await step()
    assert step.hooks is manager
    assert events == ["step_1"]


async def test_chain_hooks_run_once_for_the_chain(registry) -> None:
    events: list[str] = []
    pipeline = ChainedAction("my_pipeline", [ok_body, ok_body],
                             hooks={"before": lambda c: events.append(c.name),
                                    "success": lambda c: events.append(f"{c.name} ok")})
    await pipeline()
    assert events == ["my_pipeline", "my_pipeline ok"]


async def test_run_root_hooks_apply_to_the_top_level_step_only(registry) -> None:
    events: list[str] = []
    root_hooks = HookManager()
    root_hooks.register("before", lambda c: events.append(c.name))
    options = RunOptions(registry=current_options().registry, root_hooks=root_hooks)
    with using_options(options):
        await ChainedAction("my_pipeline", [Action("step_1", ok_body)])()
    assert events == ["my_pipeline"]


def test_clear_removes_hooks_of_one_type_or_all() -> None:
    manager = HookManager.coerce({"before": print, "after": print})
    manager.clear("before")
    assert "before" not in manager and "after" in manager
    manager.clear()
    assert not manager


# -- register_hooks_recursively ----------------------------------------------------------


def _tree() -> tuple[ChainedAction, Action]:
    shared = Action("shared", ok_body)  # in two places: gets the hook once
    inner = ChainedAction("inner", [Action("i1", ok_body), shared])
    group = ActionGroup("group", [Action("g1", ok_body), inner, shared])
    return ChainedAction("outer", [Action("first", ok_body), group]), shared


async def test_register_hooks_recursively_reaches_every_step_once(registry) -> None:
    outer, _ = _tree()
    started: list[str] = []
    outer.register_hooks_recursively("before", lambda ctx: started.append(ctx.name))
    await outer()
    assert sorted(started) == sorted(r.name for r in registry.records())
    assert sorted(started) == ["first", "g1", "group", "i1", "inner", "outer", "shared",
                               "shared"]  # `shared` runs twice, with one hook


@pytest.mark.parametrize("make", [
    lambda: Action("a", ok_body),
    lambda: ActionGroup("g", [ok_body]),
    lambda: ProcessAction("p", print),
    lambda: ProcessPoolAction("pp", [ProcessTask(print)]),
])
def test_every_step_kind_registers_on_itself(make) -> None:
    step = make()
    hook = step.register_hooks_recursively  # the method exists on every kind
    hook("teardown", print)
    assert step.hooks.hooks("on_teardown") == [print]


def test_a_hook_manager_shared_by_steps_gets_the_hook_once() -> None:
    manager = HookManager()
    pipeline = ChainedAction("c", [Action("a", ok_body, hooks=manager),
                                   Action("b", ok_body, hooks=manager)])
    pipeline.register_hooks_recursively("error", print)
    assert manager.hooks("on_error") == [print]
    assert pipeline.hooks.hooks("on_error") == [print]


def test_register_hooks_recursively_checks_before_changing_anything() -> None:
    outer, _ = _tree()
    with pytest.raises(ValueError):
        outer.register_hooks_recursively("sometimes", print)
    with pytest.raises(TypeError, match="callable"):
        outer.register_hooks_recursively("before", "not a function")  # type: ignore[arg-type]
    assert not any(step.hooks for step in outer.walk())


async def test_a_command_registers_on_itself_and_its_action_tree() -> None:
    outer, _ = _tree()
    app = Falyx("t", program="hooks-test")
    command = app.add_command("R", "Release", outer)
    seen: list[str] = []
    command.register_hooks_recursively(HookType.ON_SUCCESS, lambda ctx: seen.append(ctx.name))
    await app.run_key("R")
    assert "Release" in seen and "outer" in seen and "i1" in seen
    assert len(seen) == len(app.registry.records())
