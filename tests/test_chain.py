"""ChainedAction: order, injection, rollback (random trees), retries, cancellation."""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass, field
from typing import Any, Union

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from falyx import Action, ActionGroup, ChainedAction, RetryPolicy
from falyx.action import BaseAction
from falyx.errors import ActionGroupError, EmptyChainError, FalyxError
from tests.helpers_engine import isolated_run

# -- random trees: spec, builder, and a model of what the engine must do ---------------


@dataclass(frozen=True)
class Leaf:
    rollback: bool
    sync: bool
    name: str = ""
    fails: bool = False


@dataclass(frozen=True)
class Node:
    kind: str  # "chain" or "group"
    children: tuple[Tree, ...]
    auto_inject: bool = False
    name: str = ""


Tree = Union[Leaf, Node]

leaves = st.builds(Leaf, rollback=st.booleans(), sync=st.booleans())


def _composites(children: st.SearchStrategy[Tree]) -> st.SearchStrategy[Node]:
    return st.builds(
        Node, kind=st.sampled_from(["chain", "group"]),
        children=st.lists(children, min_size=1, max_size=3).map(tuple),
        auto_inject=st.booleans(),
    )


trees = _composites(st.recursive(leaves, _composites, max_leaves=8))


def _number(tree: Tree, fail_at: int | None, counter: list[int]) -> Tree:
    """Give every node a unique name and make leaf number `fail_at` the failing one."""
    if isinstance(tree, Leaf):
        index = counter[0]
        counter[0] += 1
        return Leaf(tree.rollback, tree.sync, f"L{index}", fails=index == fail_at)
    children = tuple(_number(c, fail_at, counter) for c in tree.children)
    counter[1] += 1
    return Node(tree.kind, children, tree.auto_inject, f"{tree.kind}{counter[1]}")


class LeafFailure(Exception):
    pass


@dataclass
class Log:
    """What actually happened: calls, rollbacks and raised errors, by leaf name."""

    calls: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = field(default_factory=dict)
    rollbacks: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)
    errors: dict[str, LeafFailure] = field(default_factory=dict)


def _leaf_functions(leaf: Leaf, log: Log) -> tuple[Any, Any]:
    def body(*args: Any, **kwargs: Any) -> str:
        log.calls[leaf.name] = (args, kwargs)
        if leaf.fails:
            log.errors[leaf.name] = LeafFailure(leaf.name)
            raise log.errors[leaf.name]
        return f"{leaf.name}:ok"

    def undo(*args: Any, **kwargs: Any) -> None:
        log.rollbacks.append((leaf.name, args, kwargs))

    if leaf.sync:
        return body, undo

    async def async_body(*args: Any, **kwargs: Any) -> str:
        return body(*args, **kwargs)

    async def async_undo(*args: Any, **kwargs: Any) -> None:
        undo(*args, **kwargs)

    return async_body, async_undo


def build(tree: Tree, log: Log) -> BaseAction:
    if isinstance(tree, Leaf):
        body, undo = _leaf_functions(tree, log)
        return Action(tree.name, body, args=(tree.name,), kwargs={"tag": tree.name},
                      rollback=undo if tree.rollback else None)
    members = [build(c, log) for c in tree.children]
    if tree.kind == "chain":
        return ChainedAction(tree.name, members, auto_inject=tree.auto_inject)
    return ActionGroup(tree.name, members)


# An undo plan: ("entry", name, args, kwargs) | ("seq", [plans]) | ("par", [plans]).
Plan = tuple


@dataclass
class Outcome:
    ok: bool
    result: Any = None
    undo: Plan = ("seq", [])
    group_layers: int = 0


@dataclass
class Expected:
    calls: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = field(default_factory=dict)
    batches: list[Plan] = field(default_factory=list)  # rollback walks, in the order they run


def simulate(tree: Tree, args: tuple, kwargs: dict, exp: Expected) -> Outcome:
    """The contract (§2.1, §2.4) applied to `tree`, by hand."""
    if isinstance(tree, Leaf):
        merged = ((*args, tree.name), {"tag": tree.name, **kwargs})
        exp.calls[tree.name] = merged
        if tree.fails:
            return Outcome(False)
        undo = ("entry", tree.name, *merged) if tree.rollback else ("seq", [])
        return Outcome(True, f"{tree.name}:ok", undo)
    if tree.kind == "chain":
        parts: list[Plan] = []
        last = None
        # Every leaf takes **kwargs, so it declares every call keyword but its inject_into.
        declared = {k: v for k, v in kwargs.items() if k != "last_result"}
        for index, child in enumerate(tree.children):
            if index:
                args, kwargs = (), {**declared,
                                    **({"last_result": last} if tree.auto_inject else {})}
            out = simulate(child, args, kwargs, exp)
            if not out.ok:
                exp.batches.append(("seq", parts))
                return Outcome(False, group_layers=out.group_layers)
            parts.append(out.undo)
            last = out.result
        return Outcome(True, last, ("seq", parts))
    outs = [simulate(child, args, dict(kwargs), exp) for child in tree.children]
    done = ("par", [o.undo for o in outs if o.ok])
    failed = [o for o in outs if not o.ok]
    if failed:
        exp.batches.append(done)
        return Outcome(False, group_layers=failed[0].group_layers + 1)
    pairs = [(c.name, o.result) for c, o in zip(tree.children, outs, strict=True)]
    return Outcome(True, pairs, done)


def _entries(plan: Plan) -> list[Plan]:
    if plan[0] == "entry":
        return [plan]
    return [e for part in plan[1] for e in _entries(part)]


def _check_order(plan: Plan, position: dict[str, int]) -> None:
    """Later parts of a chain are undone before earlier ones; group members in any order."""
    if plan[0] == "entry":
        return
    for part in plan[1]:
        _check_order(part, position)
    if plan[0] == "seq":
        spans = [[position[e[1]] for e in _entries(p)] for p in plan[1]]
        spans = [s for s in spans if s]
        for earlier, later in itertools.pairwise(spans):
            assert max(later) < min(earlier), f"chain rollback order wrong in {plan}"


# -- the invariant -------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(tree=trees, fail_at=st.none() | st.integers(0, 7))
async def test_rollbacks_are_exactly_the_completed_steps_in_reverse_with_their_args(
    tree: Node, fail_at: int | None
) -> None:
    tree = _number(tree, fail_at, [0, 0])  # type: ignore[assignment]
    log, exp = Log(), Expected()
    outcome = simulate(tree, ("root-arg",), {"root_kw": 1}, exp)
    raised: BaseException | None = None
    with isolated_run() as (registry, _):
        try:
            result = await build(tree, log)("root-arg", root_kw=1)
        except Exception as exc:
            raised = exc

    assert log.calls == exp.calls  # who ran, and with exactly which arguments
    if outcome.ok:
        assert raised is None and result == outcome.result and log.rollbacks == []
        return
    expected = [e for batch in exp.batches for e in _entries(batch)]
    assert sorted(log.rollbacks, key=repr) == sorted([e[1:] for e in expected], key=repr)
    for name, args, kwargs in log.rollbacks:
        assert (args, kwargs) == log.calls[name]  # the args that step's callable received
    position = {name: i for i, (name, _, _) in enumerate(log.rollbacks)}
    walks = [[position[e[1]] for e in _entries(b)] for b in exp.batches]
    walks = [w for w in walks if w]
    for inner, outer in itertools.pairwise(walks):
        assert max(inner) < min(outer), "an inner rollback walk must finish first"
    for batch in exp.batches:
        _check_order(batch, position)

    (failing,) = log.errors
    error: BaseException | None = raised
    for _ in range(outcome.group_layers):
        assert isinstance(error, ActionGroupError) and len(error.exceptions) == 1
        error = error.exceptions[0]
    assert error is log.errors[failing]
    assert registry.records(name=failing)[0].status == "ERROR"


# -- order, injection, results -------------------------------------------------------------


def recorder(events: list[Any], name: str, result: Any = None, fail: bool = False):
    async def body(*args: Any, **kwargs: Any) -> Any:
        events.append((name, args, kwargs))
        if fail:
            raise RuntimeError(f"{name} failed")
        return result if result is not None else f"{name} result"

    return body


def undoer(undone: list[Any], name: str):
    async def undo(*args: Any, **kwargs: Any) -> None:
        undone.append((name, args, kwargs))

    return undo


async def test_steps_run_in_order_and_the_last_result_is_returned(registry) -> None:
    events: list[Any] = []
    pipeline = ChainedAction("c", [Action(n, recorder(events, n)) for n in ("a", "b", "c")])
    assert await pipeline() == "c result"
    assert [e[0] for e in events] == ["a", "b", "c"]


async def test_only_the_first_step_receives_the_chains_positional_args(registry) -> None:
    events: list[Any] = []
    pipeline = ChainedAction("c", [Action("a", recorder(events, "a")),
                                   Action("b", recorder(events, "b"))])
    await pipeline(1, 2)
    assert events == [("a", (1, 2), {}), ("b", (), {})]


async def test_a_step_with_var_keyword_receives_every_call_keyword(registry) -> None:
    events: list[Any] = []
    pipeline = ChainedAction("c", [Action("a", recorder(events, "a")),
                                   Action("b", recorder(events, "b"))], auto_inject=True)
    await pipeline(1, key="value")
    assert events == [("a", (1,), {"key": "value"}),
                      ("b", (), {"key": "value", "last_result": "a result"})]


async def test_auto_inject_gives_every_step_but_the_first_the_previous_result(registry) -> None:
    events: list[Any] = []
    steps = [Action(n, recorder(events, n, result=i)) for i, n in enumerate("abc", start=1)]
    assert await ChainedAction("c", steps, auto_inject=True)("arg") == 3
    assert events == [("a", ("arg",), {}), ("b", (), {"last_result": 1}),
                      ("c", (), {"last_result": 2})]


async def test_inject_last_result_on_one_step_injects_only_there(registry) -> None:
    events: list[Any] = []
    steps = [Action("a", recorder(events, "a")), Action("b", recorder(events, "b")),
             Action("c", recorder(events, "c"), inject_last_result=True, inject_into="prev")]
    await ChainedAction("c", steps)()
    assert events[1] == ("b", (), {}) and events[2] == ("c", (), {"prev": "b result"})


async def test_return_list_returns_every_result_in_order(registry) -> None:
    steps = [Action(n, recorder([], n)) for n in "ab"] + [7]
    assert await ChainedAction("c", steps, return_list=True)() == ["a result", "b result", 7]


async def test_empty_chain_raises_empty_chain_error_naming_the_chain(registry) -> None:
    with pytest.raises(EmptyChainError, match="'nothing_here'") as info:
        await ChainedAction("nothing_here", [])()
    assert isinstance(info.value, FalyxError)


# -- rollback --------------------------------------------------------------------------------


async def test_rollback_runs_in_reverse_for_completed_steps(registry) -> None:
    undone: list[Any] = []
    steps = [Action(n, recorder([], n), rollback=undoer(undone, n)) for n in ("a", "b")]
    steps.append(Action("c", recorder([], "c", fail=True), rollback=undoer(undone, "c")))
    with pytest.raises(RuntimeError, match="c failed"):
        await ChainedAction("c", steps)()
    assert [u[0] for u in undone] == ["b", "a"]


async def test_rollback_receives_the_args_the_step_was_called_with(registry) -> None:
    undone: list[Any] = []
    first = Action("first", recorder([], "first", result=10), args=("stored",),
                   kwargs={"k": 1}, rollback=undoer(undone, "first"))
    second = Action("second", recorder([], "second", result=20), args=("s2",),
                    rollback=undoer(undone, "second"))
    boom = Action("boom", recorder([], "boom", fail=True))
    with pytest.raises(RuntimeError):
        await ChainedAction("c", [first, second, boom], auto_inject=True)("call", k=2)
    assert undone == [("second", ("s2",), {"k": 2, "last_result": 10}),
                      ("first", ("call", "stored"), {"k": 2})]


async def test_completed_nested_chain_rolls_back_as_a_unit_before_earlier_steps(registry) -> None:
    undone: list[Any] = []

    def leaf(name: str, fail: bool = False) -> Action:
        return Action(name, recorder([], name, fail=fail), rollback=undoer(undone, name))

    inner = ChainedAction("inner", [leaf("i1"), leaf("i2")], rollback=undoer(undone, "inner"))
    with pytest.raises(RuntimeError):
        await ChainedAction("outer", [leaf("first"), inner, leaf("last", fail=True)])()
    assert [u[0] for u in undone] == ["i2", "i1", "inner", "first"]


async def test_raising_rollback_is_logged_attached_and_the_walk_continues(
    registry, caplog, monkeypatch
) -> None:
    logger = logging.getLogger("falyx")
    monkeypatch.setattr(logger, "propagate", True)
    monkeypatch.setattr(logger, "disabled", False)
    caplog.set_level(logging.INFO, logger="falyx")
    undone: list[Any] = []
    broken = OSError("cannot undo b")

    async def broken_undo(*args: Any) -> None:
        raise broken

    steps = [Action("a", recorder([], "a"), rollback=undoer(undone, "a")),
             Action("b", recorder([], "b"), rollback=broken_undo),
             Action("c", recorder([], "c", fail=True))]
    with pytest.raises(RuntimeError) as info:
        await ChainedAction("chain", steps)()
    assert [u[0] for u in undone] == ["a"]
    assert info.value.rollback_errors == [broken]
    if hasattr(info.value, "__notes__"):
        assert any("cannot undo b" in note for note in info.value.__notes__)
    assert any(r.levelno == logging.ERROR and "[b] Rollback failed" in r.getMessage()
               and "cannot undo b" in r.getMessage() for r in caplog.records)
    rollback_records = [(r.name, r.status) for r in registry.records() if r.kind == "Rollback"]
    assert rollback_records == [("b", "ERROR"), ("a", "OK")]


async def test_sync_rollbacks_run_too(registry) -> None:
    undone: list[str] = []
    steps = [Action("a", recorder([], "a"), rollback=lambda *a, **k: undone.append("a")),
             Action("b", recorder([], "b", fail=True))]
    with pytest.raises(RuntimeError):
        await ChainedAction("c", steps)()
    assert undone == ["a"]


async def test_retry_on_a_chain_reruns_it_after_its_rollback(registry, fake_sleep) -> None:
    events: list[str] = []
    attempts = []

    async def flaky() -> str:
        attempts.append(1)
        events.append("flaky")
        if len(attempts) == 1:
            raise RuntimeError("first time fails")
        return "ok"

    async def first() -> str:
        events.append("first")
        return "first"

    pipeline = ChainedAction(
        "c",
        [Action("first", first, rollback=lambda *a, **k: events.append("undo first")),
         Action("flaky", flaky)],
        retry=RetryPolicy(max_retries=1),
    )
    assert await pipeline() == "ok"
    assert events == ["first", "flaky", "undo first", "first", "flaky"]
    assert registry.records(name="c")[0].attempts == 2
    assert fake_sleep.waits == [1.0]


async def test_chain_failure_records_the_chain_as_error_with_the_steps_exception(
    registry,
) -> None:
    with pytest.raises(RuntimeError) as info:
        await ChainedAction("c", [Action("boom", recorder([], "boom", fail=True))])()
    record = registry.latest()
    assert (record.name, record.status) == ("c", "ERROR")
    assert record.exception is info.value


# -- cancellation --------------------------------------------------------------------------


async def test_cancelling_mid_chain_rolls_back_and_records_cancelled(registry) -> None:
    undone: list[Any] = []
    started = asyncio.Event()

    async def hang() -> None:
        started.set()
        await asyncio.Event().wait()

    pipeline = ChainedAction("deploy", [
        Action("step_1", recorder([], "step_1"), args=("x",), rollback=undoer(undone, "step_1")),
        Action("step_2", hang, rollback=undoer(undone, "step_2")),
    ])
    task = asyncio.ensure_future(pipeline())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert undone == [("step_1", ("x",), {})]
    status = {r.name: r.status for r in registry.records() if r.kind != "Rollback"}
    assert status == {"step_1": "OK", "step_2": "CANCELLED", "deploy": "CANCELLED"}


async def test_rollback_is_shielded_from_a_second_cancellation(registry) -> None:
    events: list[str] = []
    started, undo_started, release = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def hang() -> None:
        started.set()
        await asyncio.Event().wait()

    async def slow_undo(*args: Any, **kwargs: Any) -> None:
        undo_started.set()
        await release.wait()
        events.append("undo finished")

    pipeline = ChainedAction("deploy", [Action("a", recorder([], "a"), rollback=slow_undo),
                                        Action("b", hang)])
    task = asyncio.ensure_future(pipeline())
    await started.wait()
    task.cancel()
    await undo_started.wait()
    task.cancel()  # Ctrl-C again while undoing: the undo still completes
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert events == ["undo finished"]
