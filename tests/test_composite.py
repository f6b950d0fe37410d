"""Composites (DESIGN §2.15): injection through nested steps, the list API, changing `.actions`."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Union

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from falyx import Action, ActionGroup, ChainedAction
from falyx.action import BaseAction
from falyx.errors import EmptyChainError, EmptyGroupError
from tests.helpers_engine import isolated_run


async def plus10(last_result: int) -> int:
    return last_result + 10


def const() -> int:
    return 3


# -- injection through composites: the examples ---------------------------------------


async def test_group_members_that_ask_get_the_enclosing_chains_previous_result(registry) -> None:
    pipeline = ChainedAction("c", [
        Action("first", lambda: 5),
        ActionGroup("g", [Action("a", plus10, inject_last_result=True), Action("b", const)]),
    ], return_list=True)
    assert await pipeline() == [5, [("a", 15), ("b", 3)]]


async def test_first_step_of_a_nested_chain_gets_the_enclosing_previous_result(registry) -> None:
    inner = ChainedAction("inner", [Action("plus10", plus10, inject_last_result=True)])
    assert await ChainedAction("c", [Action("first", lambda: 5), inner])() == 15


@pytest.mark.parametrize("make", [
    lambda step: ChainedAction("top", [step]),
    lambda step: ActionGroup("top", [step]),
    lambda step: ChainedAction("top", [ChainedAction("inner", [step])]),
])
async def test_a_step_that_asks_at_the_very_start_gets_none(registry, make) -> None:
    seen: list[Any] = []

    def record(last_result: Any = "not given") -> None:
        seen.append(last_result)

    await make(Action("first", record, inject_last_result=True))()
    assert seen == [None]


async def test_an_explicit_call_keyword_wins_over_the_injected_value(registry) -> None:
    seen: list[Any] = []

    def record(last_result: Any = "not given") -> None:
        seen.append(last_result)

    step = Action("first", record, inject_last_result=True)
    await ChainedAction("top", [ChainedAction("inner", [step])])(last_result=5)
    await ActionGroup("group", [step])(last_result=6)
    assert seen == [5, 6]


async def test_deep_nesting_hands_the_value_down_through_groups_and_chains(registry) -> None:
    seen: dict[str, Any] = {}

    def note(name: str):
        def body(**kwargs: Any) -> str:
            seen[name] = kwargs
            return name
        return body

    deep = ActionGroup("g", [
        ChainedAction("c1", [Action("x", note("x"), inject_last_result=True, inject_into="v"),
                             Action("y", note("y"), inject_last_result=True)]),
        ChainedAction("c2", [ActionGroup("g2", [Action("z", note("z"), inject_last_result=True),
                                                Action("w", note("w"))])]),
    ])
    await ChainedAction("top", [Action("start", lambda: "S"), deep])()
    assert seen == {"x": {"v": "S"}, "y": {"last_result": "x"}, "z": {"last_result": "S"},
                    "w": {}}


async def test_an_injected_composite_passes_the_value_to_its_entry_steps(registry) -> None:
    """`inject_last_result=True` on a composite (or its chain's auto_inject) is passed on."""
    seen: dict[str, Any] = {}

    def note(name: str):
        def body(**kwargs: Any) -> str:
            seen[name] = kwargs
            return name
        return body

    asked = ActionGroup("g", [Action("a", note("a")), Action("b", note("b"))],
                        inject_last_result=True, inject_into="data")
    auto = ChainedAction("inner", [Action("c", note("c")), Action("d", note("d"))])
    await ChainedAction("top", [Action("start", lambda: 1), asked, auto], auto_inject=True)()
    assert seen == {"a": {"data": 1}, "b": {"data": 1},
                    "c": {"last_result": [("a", "a"), ("b", "b")]}, "d": {}}


async def test_a_composite_rollback_is_not_handed_the_chains_results(registry) -> None:
    """A nested composite gets a hand-off only as the member its composite is starting."""
    undone: list[Any] = []

    def undo(*args: Any, **kwargs: Any) -> None:
        undone.append((args, kwargs))

    def fail(last_result: Any = None) -> None:
        raise RuntimeError("boom")

    undo_chain = ChainedAction("undo_b", [Action("undo", undo)])
    pipeline = ChainedAction("c", [Action("a", lambda: "A"),
                                   Action("b", lambda last_result: "B", rollback=undo_chain),
                                   Action("fail", fail)], auto_inject=True)
    with pytest.raises(RuntimeError, match="boom"):
        await pipeline()
    assert undone == [((), {"last_result": "A"})]  # what b received, and nothing more


def test_injected_composite_whose_entry_cannot_take_the_keyword_fails_at_construction() -> None:
    inner = ActionGroup("g", [Action("ok", lambda last_result: 1), Action("bad", const)])
    with pytest.raises(TypeError, match=r"'bad' in ActionGroup 'g'.*'last_result'"):
        ChainedAction("c", [Action("first", const), inner], auto_inject=True)
    with pytest.raises(TypeError, match="'const' in ActionGroup 'g2'"):
        ActionGroup("g2", [const], inject_last_result=True)
    asked = ActionGroup("g3", [lambda last_result: 1], inject_last_result=True)
    with pytest.raises(TypeError, match="'bad' in ActionGroup 'g3'"):
        asked.add_action(Action("bad", const))
    assert len(asked.actions) == 1


# -- injection through composites: the invariant ----------------------------------------------


@dataclass(frozen=True)
class Leaf:
    asks: bool
    key: str
    name: str = ""


@dataclass(frozen=True)
class Node:
    kind: str  # "chain" or "group"
    children: tuple[Tree, ...]
    auto_inject: bool
    asks: bool
    key: str
    name: str = ""


Tree = Union[Leaf, Node]
keys = st.sampled_from(["last_result", "prev"])
leaves = st.builds(Leaf, asks=st.booleans(), key=keys)


def _composites(children: st.SearchStrategy[Tree]) -> st.SearchStrategy[Node]:
    return st.builds(Node, kind=st.sampled_from(["chain", "group"]),
                     children=st.lists(children, min_size=1, max_size=3).map(tuple),
                     auto_inject=st.booleans(), asks=st.booleans(), key=keys)


trees = _composites(st.recursive(leaves, _composites, max_leaves=10))


def _named(tree: Tree, counter: list[int]) -> Tree:
    counter[0] += 1
    if isinstance(tree, Leaf):
        return Leaf(tree.asks, tree.key, f"L{counter[0]}")
    children = tuple(_named(c, counter) for c in tree.children)
    return Node(tree.kind, children, tree.auto_inject, tree.asks, tree.key, f"N{counter[0]}")


def _build(tree: Tree, calls: dict[str, dict[str, Any]]) -> BaseAction:
    if isinstance(tree, Leaf):
        def body(**kwargs: Any) -> str:
            calls[tree.name] = kwargs
            return f"{tree.name} out"
        return Action(tree.name, body, inject_last_result=tree.asks, inject_into=tree.key)
    members = [_build(c, calls) for c in tree.children]
    if tree.kind == "chain":
        return ChainedAction(tree.name, members, auto_inject=tree.auto_inject,
                             inject_last_result=tree.asks, inject_into=tree.key)
    return ActionGroup(tree.name, members, inject_last_result=tree.asks, inject_into=tree.key)


def _expect(tree: Tree, value: Any, key: str | None, calls: dict[str, dict[str, Any]]) -> Any:
    """DESIGN §2.1 and §2.15 by hand: `value` is the previous result handed to `tree`,
    `key` the keyword its entry steps get it under without asking (None: only if asked)."""
    if isinstance(tree, Leaf):
        received = {tree.key: value} if tree.asks else {}
        if key is not None:
            received[key] = value
        calls[tree.name] = received
        return f"{tree.name} out"
    if tree.asks:
        key = tree.key
    if tree.kind == "group":
        return [(c.name, _expect(c, value, key, calls)) for c in tree.children]
    for index, child in enumerate(tree.children):
        if index:  # every later step: the previous result, given unasked under auto_inject
            key = child.key if tree.auto_inject else None
        value = _expect(child, value, key, calls)
    return value


@settings(max_examples=150, deadline=None)
@given(tree=trees)
async def test_each_step_gets_exactly_the_enclosing_previous_result_when_it_asks(
    tree: Node,
) -> None:
    tree = _named(tree, [0])  # type: ignore[assignment]
    expected: dict[str, dict[str, Any]] = {}
    result = _expect(tree, None, None, expected)
    calls: dict[str, dict[str, Any]] = {}
    with isolated_run():
        assert await _build(tree, calls)() == result
    assert calls == expected  # who got which keyword, and steps that did not ask got none


# -- the list API -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [ChainedAction, ActionGroup])
async def test_actions_none_builds_an_empty_composite_that_fails_when_run(registry, kind) -> None:
    composite = kind("empty", actions=None)
    assert composite.actions == []
    error = EmptyChainError if kind is ChainedAction else EmptyGroupError
    with pytest.raises(error, match="'empty'"):
        await composite()


@pytest.mark.parametrize("kind", [ChainedAction, ActionGroup])
async def test_add_action_appends_a_step_and_wraps_callables(registry, kind) -> None:
    composite = kind("c", actions=None)
    first = composite.add_action(Action("one", lambda: 1))
    second = composite.add_action(const)
    assert isinstance(second, Action) and second.name == "const"
    assert composite.actions == [first, second]
    result = await composite()
    assert result == (3 if kind is ChainedAction else [("one", 1), ("const", 3)])


@pytest.mark.parametrize("kind", [ChainedAction, ActionGroup])
def test_get_has_and_remove_action_find_steps_by_name(kind) -> None:
    one, two, again = Action("one", const), Action("two", const), Action("one", const)
    composite = kind("c", [one, two, again])
    assert composite.has_action("two") and not composite.has_action("three")
    assert composite.get_action("one") is one  # the first with that name
    assert composite.remove_action("one") is one
    assert composite.actions == [two, again]
    assert composite.remove_action("one") is again
    assert composite.actions == [two]


@pytest.mark.parametrize("kind", [ChainedAction, ActionGroup])
@pytest.mark.parametrize("method", ["get_action", "remove_action"])
def test_a_missing_step_name_is_a_key_error_naming_it(kind, method) -> None:
    composite = kind("pipeline", [Action("one", const)])
    with pytest.raises(KeyError, match="'pipeline' has no step named 'deploy'"):
        getattr(composite, method)("deploy")
    assert len(composite.actions) == 1


def test_add_action_checks_injection_before_adding() -> None:
    pipeline = ChainedAction("c", [Action("first", const)], auto_inject=True)
    with pytest.raises(TypeError, match=r"'const' in chain 'c'.*'last_result'"):
        pipeline.add_action(const)
    assert [s.name for s in pipeline.actions] == ["first"]


# -- changing `.actions` before a run ---------------------------------------------------------


async def test_appending_to_actions_before_a_run_is_safe(registry) -> None:
    pipeline = ChainedAction("c", [Action("first", lambda: 1)], auto_inject=True)
    assert await pipeline() == 1
    pipeline.actions.append(Action("second", plus10))
    pipeline.actions.append(lambda last_result: last_result * 2)  # a plain callable too
    assert await pipeline() == 22
    assert all(isinstance(step, BaseAction) for step in pipeline.actions)


async def test_reordering_actions_moves_injection_with_the_positions(registry) -> None:
    seen: list[Any] = []

    def first(last_result: Any = "none") -> str:
        seen.append(("first", last_result))
        return "F"

    def second(last_result: Any = "none") -> str:
        seen.append(("second", last_result))
        return "S"

    pipeline = ChainedAction("c", [Action("first", first), Action("second", second)],
                             auto_inject=True)
    await pipeline()
    pipeline.actions.reverse()
    await pipeline()
    pipeline.actions = (Action("only", first),)  # a new sequence, even a tuple
    await pipeline()
    assert seen == [("first", "none"), ("second", "F"), ("second", "none"), ("first", "S"),
                    ("first", "none")]


async def test_a_changed_list_with_a_step_that_cannot_take_the_injection_fails_before_running(
    registry,
) -> None:
    ran: list[str] = []
    pipeline = ChainedAction("c", [Action("first", lambda: ran.append("first"))],
                             auto_inject=True)
    pipeline.actions.append(Action("no_param", lambda: ran.append("no_param")))
    with pytest.raises(TypeError, match="'no_param' in chain 'c'"):
        await pipeline()
    assert ran == []
    assert "'no_param'" in repr(pipeline)  # repr never prepares the list, so never raises


async def test_changing_a_groups_members_before_a_run_is_safe(registry) -> None:
    checks = ActionGroup("checks", [Action("a", lambda: "A")])
    checks.actions.append(lambda: "B")
    checks.actions[0] = Action("c", lambda: "C")
    assert await checks() == [("c", "C"), ("<lambda>", "B")]
    checks.actions.clear()
    with pytest.raises(EmptyGroupError):
        await checks()


@settings(max_examples=60, deadline=None)
@given(ops=st.lists(st.tuples(st.sampled_from(["append", "insert", "pop"]),
                              st.integers(0, 10)), max_size=12))
async def test_any_edit_of_actions_runs_the_list_as_it_now_is(ops: list[tuple[str, int]]) -> None:
    received: list[tuple[str, Any]] = []

    def make(name: str) -> Action:
        def body(last_result: Any = "unset") -> str:
            received.append((name, last_result))
            return name
        return Action(name, body)

    pipeline = ChainedAction("c", [make("s0")], auto_inject=True)
    with isolated_run():
        await pipeline()  # prepared once, then edited
        for number, (op, position) in enumerate(ops, start=1):
            if op == "append":
                pipeline.actions.append(make(f"s{number}"))
            elif op == "insert":
                pipeline.actions.insert(position, make(f"s{number}"))
            elif pipeline.actions:
                pipeline.actions.pop(position % len(pipeline.actions))
        names = [s.name for s in pipeline.actions]
        received.clear()
        if not names:
            with pytest.raises(EmptyChainError):
                await pipeline()
            return
        assert await pipeline() == names[-1]
    assert received == [(names[0], "unset")] + [
        (name, previous) for previous, name in itertools.pairwise(names)]
