"""Action, @step, literal steps, chain()/group() builders, previews, and no mutation."""

from __future__ import annotations

import asyncio
import random
import threading
from typing import Any

import pytest

from falyx import Action, ActionGroup, ChainedAction, RetryPolicy, chain, group, step
from falyx.action import LiteralAction, PreviewNode
from falyx.action.options import RunOptions, current_options, using_options
from falyx.errors import InvalidActionError


async def flaky_step() -> str:
    """The seed's example step: fails now and then."""
    await asyncio.sleep(0)
    if random.random() < 0.3:
        raise RuntimeError("Random failure!")
    return "ok"


def collect(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return args, kwargs


async def async_collect(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return args, kwargs


# -- the seed's object API -------------------------------------------------------------


async def test_seed_action_runs_flaky_step_and_retries_to_success(registry, monkeypatch) -> None:
    draws = iter([0.1, 0.1, 0.9])  # fail, fail, succeed
    monkeypatch.setattr(random, "random", lambda: next(draws))
    step1 = Action(name="step_1", action=flaky_step, retry=True)
    assert await step1() == "ok"
    assert registry.latest().attempts == 3


async def test_seed_chained_action_runs_steps_in_order(registry) -> None:
    order: list[str] = []

    async def one() -> str:
        order.append("one")
        return "first"

    async def two(last_result: str) -> str:
        order.append("two")
        return f"{last_result} then second"

    step1 = Action(name="step_1", action=one)
    step2 = Action(name="step_2", action=two, inject_last_result=True)
    pipeline = ChainedAction(name="my_pipeline", actions=[step1, step2])
    assert await pipeline() == "first then second"
    assert order == ["one", "two"]
    assert [r.name for r in registry.records()] == ["step_1", "step_2", "my_pipeline"]


async def test_action_returns_the_result_of_an_async_callable(registry) -> None:
    assert await Action("s", async_collect)(1, k=2) == ((1,), {"k": 2})


async def test_sync_callables_run_in_a_worker_thread(registry) -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []

    def body() -> str:
        seen.append(threading.get_ident())
        return "done"

    assert await Action("sync", body)() == "done"
    assert seen and seen[0] != loop_thread


async def test_async_callables_run_on_the_loop_thread(registry) -> None:
    loop_thread = threading.get_ident()

    async def body() -> int:
        return threading.get_ident()

    assert await Action("async", body)() == loop_thread


async def test_sync_callable_returning_an_awaitable_is_awaited(registry) -> None:
    def returns_coroutine() -> Any:
        return async_collect("inner")

    assert await Action("s", returns_coroutine)() == (("inner",), {})


async def test_call_args_come_first_then_stored_args(registry) -> None:
    step1 = Action("s", collect, args=("stored1", "stored2"))
    args, _ = await step1("call1", "call2")
    assert args == ("call1", "call2", "stored1", "stored2")


async def test_call_kwargs_override_stored_kwargs(registry) -> None:
    step1 = Action("s", collect, kwargs={"a": "stored", "b": "stored"})
    _, kwargs = await step1(b="call", c="call")
    assert kwargs == {"a": "stored", "b": "call", "c": "call"}


def test_fn_and_action_are_the_raw_callable() -> None:
    step1 = Action("s", collect)
    assert step1.fn is collect and step1.action is collect


def test_non_callable_action_is_a_type_error_naming_the_step() -> None:
    with pytest.raises(TypeError, match="'broken'") as info:
        Action("broken", "not callable")  # type: ignore[arg-type]
    assert isinstance(info.value, InvalidActionError)


@pytest.mark.parametrize("name", ["", "   ", None])
def test_a_step_needs_a_non_empty_name(name: Any) -> None:
    with pytest.raises(TypeError, match="name"):
        Action(name, collect)


def test_non_callable_rollback_is_a_type_error_naming_the_step() -> None:
    with pytest.raises(TypeError, match=r"'s'.*rollback"):
        Action("s", collect, rollback="undo")


def test_injection_into_a_function_without_the_keyword_fails_at_construction() -> None:
    def no_last_result(x: int) -> int:
        return x

    with pytest.raises(TypeError, match=r"'needs_input'.*'last_result'"):
        Action("needs_input", no_last_result, inject_last_result=True)


def test_injection_into_a_custom_keyword_is_checked_too() -> None:
    def takes_data(data: Any = None) -> Any:
        return data

    Action("ok", takes_data, inject_last_result=True, inject_into="data")
    with pytest.raises(TypeError, match=r"'bad'.*'payload'"):
        Action("bad", takes_data, inject_last_result=True, inject_into="payload")


def test_auto_inject_checks_every_step_but_the_first_at_construction() -> None:
    def first(x: int) -> int:
        return x

    with pytest.raises(TypeError, match=r"'first'.*chain 'c'.*'last_result'"):
        ChainedAction("c", [first, first], auto_inject=True)
    assert ChainedAction("c", [first, collect], auto_inject=True).auto_inject


async def test_injection_accepts_functions_with_var_keyword(registry) -> None:
    pipeline = ChainedAction("c", [Action("a", collect, args=(1,)),
                                   Action("b", collect, inject_last_result=True)])
    assert await pipeline() == ((), {"last_result": ((1,), {})})


async def test_inject_into_names_the_receiving_keyword(registry) -> None:
    async def produce() -> int:
        return 41

    async def consume(data: int) -> int:
        return data + 1

    pipeline = ChainedAction("c", [produce, Action("consume", consume, inject_last_result=True,
                                                   inject_into="data")])
    assert await pipeline() == 42


# -- @step -------------------------------------------------------------------------------


async def test_bare_step_decorator_makes_an_action_named_after_the_function(registry) -> None:
    @step
    async def build(target: str = "prod") -> str:
        return f"built {target}"

    assert isinstance(build, Action)
    assert build.name == "build"
    assert await build("dev") == "built dev"


async def test_step_decorator_with_arguments_sets_the_options(registry, fake_sleep) -> None:
    undo_calls: list[Any] = []

    @step(name="deploy", retry=2, rollback=lambda *a, **k: undo_calls.append(a), timeout=5)
    def deploy_it() -> str:
        return "deployed"

    assert isinstance(deploy_it, Action)
    assert deploy_it.name == "deploy"
    assert deploy_it.retry_policy == RetryPolicy(max_retries=2)
    assert deploy_it.timeout == 5 and deploy_it.rollback is not None
    assert await deploy_it() == "deployed"


# -- literals and builders ---------------------------------------------------------------


async def test_literal_values_in_a_chain_return_themselves(registry) -> None:
    async def double(last_result: int) -> int:
        return last_result * 2

    pipeline = ChainedAction("c", [21, double], auto_inject=True)
    assert isinstance(pipeline.actions[0], LiteralAction)
    assert await pipeline() == 42


async def test_a_literal_step_can_end_a_chain(registry) -> None:
    assert await ChainedAction("c", [collect, {"final": True}], return_list=True)() == [
        ((), {}), {"final": True}]


async def test_chain_builder_wraps_functions_and_names_the_chain(registry) -> None:
    async def fetch() -> int:
        return 2

    async def double(last_result: int) -> int:
        return last_result * 2

    pipeline = chain(fetch, double, auto_inject=True)
    assert isinstance(pipeline, ChainedAction)
    assert pipeline.name == "fetch -> double"
    assert [a.name for a in pipeline.actions] == ["fetch", "double"]
    assert await pipeline() == 4
    assert chain(fetch, name="custom", return_list=True).name == "custom"


async def test_group_builder_wraps_functions_and_names_the_group(registry) -> None:
    async def left() -> str:
        return "L"

    async def right() -> str:
        return "R"

    both = group(left, Action("right", right), fail_fast=True)
    assert isinstance(both, ActionGroup)
    assert both.name == "left & right" and both.fail_fast
    assert await both() == [("left", "L"), ("right", "R")]


async def test_builders_accept_steps_and_composites(registry) -> None:
    @step
    async def one() -> int:
        return 1

    inner = group(one, name="inner")
    outer = chain(inner, one, name="outer", return_list=True)
    assert outer.actions[0] is inner and outer.actions[1] is one
    assert await outer() == [[("one", 1)], 1]


# -- preview -----------------------------------------------------------------------------


def test_preview_renders_the_seed_tree_lines() -> None:
    step1 = Action(name="step_1", action=flaky_step, retry=True)
    step2 = Action(name="step_2", action=collect, timeout=30, rollback=collect)
    pipeline = ChainedAction(name="my_pipeline", actions=[step1, step2])
    node = pipeline.preview()
    assert isinstance(node, PreviewNode)
    assert node.lines() == [
        "⛓ ChainedAction 'my_pipeline'",
        "    ⚙ Action 'step_1'",
        "        ↻ Retries: 3x, delay 1.0s, backoff 2.0x",
        "    ⚙ Action 'step_2'",
        "        ⏱ Timeout: 30s",
        "        ↩ Rollback: collect",
    ]


def test_preview_of_a_group_lists_its_members() -> None:
    lines = ActionGroup("checks", [Action("lint", collect), 5]).preview().lines()
    assert lines[0] == "⇉ ActionGroup 'checks'"
    assert lines[1] == "    ⚙ Action 'lint'"
    assert lines[2].strip().startswith("≡ Literal")


def test_preview_shows_the_policy_a_run_would_apply() -> None:
    options = RunOptions(leaf_policy=RetryPolicy(max_retries=5, delay=0.5, jitter=0.1,
                                                 max_delay=3.0))
    lines = ChainedAction("c", [Action("leaf", collect)]).preview(options).lines()
    assert lines == [
        "⛓ ChainedAction 'c'",
        "    ⚙ Action 'leaf'",
        "        ↻ Retries: 5x, delay 0.5s, backoff 2.0x, jitter ±0.1s, max delay 3.0s",
    ]


# -- no mutation of shared steps ---------------------------------------------------------


def _snapshot(action: Action) -> dict[str, Any]:
    return {k: getattr(action, k) for k in (
        "name", "fn", "args", "kwargs", "rollback", "retry_policy", "timeout",
        "inject_last_result", "inject_into", "record_result")}


async def test_running_a_step_in_two_chains_never_mutates_it(registry) -> None:
    async def produce() -> str:
        return "produced"

    shared = Action("shared", collect, args=("stored",), kwargs={"k": 1})
    before = _snapshot(shared)
    injecting = ChainedAction("injecting", [produce, shared], auto_inject=True)
    plain = ChainedAction("plain", [produce, shared])
    first, second = await asyncio.gather(injecting(), plain())
    assert first == (("stored",), {"k": 1, "last_result": "produced"})
    assert second == (("stored",), {"k": 1})
    assert await plain() == (("stored",), {"k": 1})
    assert _snapshot(shared) == before
    assert shared.inject_last_result is False


async def test_run_options_never_change_the_steps_policy(registry) -> None:
    leaf = Action("leaf", collect)
    options = RunOptions(registry=current_options().registry,
                         leaf_policy=RetryPolicy(max_retries=1))
    with using_options(options):
        await ChainedAction("c", [leaf])()
    assert leaf.retry_policy is None


def test_action_repr_names_the_function_and_options() -> None:
    text = repr(Action("s", collect, retry=True))
    assert "name='s'" in text and "action=collect" in text and "retry=True" in text


async def test_running_steps_leaves_the_users_random_state_alone(registry) -> None:
    """Run ids and jitter use falyx's own generator: a user's seeded sequence is unchanged."""
    calls = {"n": 0}

    def flaky() -> str:
        calls["n"] += 1
        if calls["n"] < 3:
            raise RuntimeError("again")
        return "done"

    random.seed(1234)
    expected = [random.random() for _ in range(3)]
    random.seed(1234)
    step_ = Action("flaky", flaky, retry=RetryPolicy(max_retries=3, delay=0, jitter=0.5))
    assert await ChainedAction("c", [step_])() == "done"
    assert [random.random() for _ in range(3)] == expected
