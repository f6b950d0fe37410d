"""The parameter protocol: what each step declares, the union of a composite, and routing."""

from __future__ import annotations

import inspect
from typing import Annotated, Any, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from falyx import Action, ActionGroup, ChainedAction, chain, group
from falyx.action import BaseAction, LiteralAction
from falyx.errors import RegistrationError
from tests.helpers_engine import isolated_run

EMPTY = inspect.Parameter.empty


def shape(step: BaseAction) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.annotation, p.default) for p in step.parameters()]


# -- what one step declares ------------------------------------------------------------------
def test_action_parameters_are_keyword_only_with_resolved_annotations_and_defaults() -> None:
    def deploy(env: str, replicas: int = 2, *, dry_run: bool = False,
               labels: Optional[list[str]] = None) -> None: ...

    params = Action("deploy", deploy).parameters()

    assert {p.kind for p in params} == {inspect.Parameter.KEYWORD_ONLY}
    # this module has `from __future__ import annotations`: the strings come back resolved
    assert shape(Action("deploy", deploy)) == [
        ("env", str, EMPTY), ("replicas", int, 2), ("dry_run", bool, False),
        ("labels", Optional[list[str]], None)]


MARKER = object()


def test_annotated_metadata_is_kept() -> None:
    def tag(name: Annotated[str, MARKER] = "latest") -> None: ...

    (param,) = Action("tag", tag).parameters()
    assert param.annotation == Annotated[str, MARKER]


def test_an_annotation_that_cannot_be_resolved_stays_a_string_and_the_others_resolve() -> None:
    class Local:  # not reachable from the module: the string cannot be resolved
        pass

    def step(where: Local, count: int = 1) -> None: ...

    assert shape(Action("s", step)) == [("where", "Local", EMPTY), ("count", int, 1)]


def test_stored_args_kwargs_injection_and_positional_only_are_not_parameters() -> None:
    def step(first, /, a: int, b: int, c: int = 0, *args: int, last_result: Any = None,
             d: str = "", **kwargs: Any) -> None: ...

    action = Action("s", step, args=(1,), kwargs={"d": "x"})

    # stored args come after the call's, so the one stored arg fills `c`
    assert [p.name for p in action.parameters()] == ["a", "b"]
    assert action.declares("a") and action.declares("anything")  # **kwargs declares any name
    assert not action.declares("last_result")  # the injected keyword only comes by injection


def test_a_callable_without_a_signature_declares_nothing() -> None:
    action = Action("len", len)
    assert action.parameters() == [] and not action.declares("obj")


def test_unannotated_parameters_keep_an_empty_annotation() -> None:
    def step(count=3, name=None) -> None: ...

    assert shape(Action("s", step)) == [("count", EMPTY, 3), ("name", EMPTY, None)]


def test_literal_steps_and_plain_base_actions_declare_nothing() -> None:
    assert LiteralAction(7).parameters() == []
    assert not LiteralAction(7).declares("x")


# -- composites: the union ---------------------------------------------------------------------
def build(tag: str) -> None: ...
def lint(path: str = ".") -> None: ...
def deploy(env: str = "staging", tag: str = "", last_result: Any = None) -> None: ...


def test_composite_parameters_are_the_union_in_order_of_first_appearance() -> None:
    def test(path: str = ".", strict: bool = False) -> None: ...

    release = chain(build, group(lint, test), Action("deploy", deploy, kwargs={"tag": "x"}))

    assert shape(release) == [("tag", str, EMPTY), ("path", str, "."), ("strict", bool, False),
                              ("env", str, "staging")]
    assert release.declares("strict") and not release.declares("verbose")


@pytest.mark.parametrize("other", [
    "def other(tag: int) -> None: ...",              # another type
    "def other(tag: str = 'v1') -> None: ...",       # a default where the first is required
    "def other(tag) -> None: ...",                   # no annotation
])
@pytest.mark.parametrize("composite", [chain, group])
def test_a_name_declared_differently_by_two_steps_names_both(composite, other: str) -> None:
    namespace: dict[str, Any] = {}
    exec(other, namespace)
    steps = composite(Action("build", build), Action("other", namespace["other"]), name="c")

    with pytest.raises(RegistrationError, match=r"'tag'.*step 'build'.*step 'other'"):
        steps.parameters()


def test_option_metadata_does_not_make_a_conflict() -> None:
    def tagged(tag: Annotated[str, "help text"]) -> None: ...

    assert shape(chain(build, tagged)) == [("tag", str, EMPTY)]


# -- routing -------------------------------------------------------------------------------------
async def test_chain_gives_each_step_the_keywords_it_declares() -> None:
    calls: list[Any] = []

    def build(tag: str) -> str:
        calls.append(("build", tag))
        return "built"

    def deploy(env: str) -> None:
        calls.append(("deploy", env))

    with isolated_run():
        await chain(build, deploy)(tag="v2", env="prod")
    assert calls == [("build", "v2"), ("deploy", "prod")]


async def test_a_keyword_no_step_declares_reaches_the_first_step_and_fails_loudly() -> None:
    def build(tag: str) -> None: ...
    def deploy(env: str) -> None: ...

    with isolated_run(), pytest.raises(TypeError, match="unexpected keyword argument 'tga'"):
        await chain(build, deploy)(tag="v2", env="prod", tga="typo")


async def test_group_gives_positional_args_to_all_and_keywords_to_those_that_declare_them() -> None:
    def lint(path: str, *, strict: bool = False) -> tuple:
        return (path, strict)

    def test(path: str, *, workers: int = 1) -> tuple:
        return (path, workers)

    with isolated_run():
        result = await group(lint, test)("src", strict=True, workers=4)
    assert result == [("lint", ("src", True)), ("test", ("src", 4))]


async def test_nested_composites_route_through_every_level() -> None:
    calls: dict[str, Any] = {}

    def build(tag: str) -> None:
        calls["build"] = tag

    def lint(strict: bool = False) -> None:
        calls["lint"] = strict

    def scan(level: int = 1) -> None:
        calls["scan"] = level

    def deploy(env: str, tag: str) -> None:
        calls["deploy"] = (env, tag)

    with isolated_run():
        await chain(build, group(lint, chain(scan, name="inner")), deploy)(
            tag="v3", strict=True, level=5, env="prod")
    assert calls == {"build": "v3", "lint": True, "scan": 5, "deploy": ("prod", "v3")}


async def test_a_step_with_stored_kwargs_keeps_them_when_another_step_declares_the_name() -> None:
    calls: dict[str, Any] = {}

    def notify(channel: str) -> None:
        calls["notify"] = channel

    def announce(channel: str = "general") -> None:
        calls["announce"] = channel

    with isolated_run():
        await chain(Action("notify", notify, kwargs={"channel": "ops"}), announce)(
            channel="release")
    assert calls == {"notify": "ops", "announce": "release"}


names = st.sampled_from(["a", "b", "c", "d"])


@settings(max_examples=60, deadline=None)
@given(declared=st.lists(st.frozensets(names), min_size=1, max_size=4),
       kwargs=st.dictionaries(names, st.integers(), max_size=4),
       kind=st.sampled_from(["chain", "group"]))
async def test_each_step_gets_exactly_its_keywords_and_the_first_the_undeclared_ones(
    declared: list[frozenset[str]], kwargs: dict[str, int], kind: str
) -> None:
    seen: dict[int, dict[str, int]] = {}

    def member(index: int, params: frozenset[str]) -> Action:
        def body(**got: int) -> None:
            seen[index] = got

        body.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
            inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=0)
            for n in sorted(params)])
        return Action(f"s{index}", body)

    steps = [member(i, params) for i, params in enumerate(declared)]
    composite = ChainedAction("c", steps) if kind == "chain" else ActionGroup("g", steps)
    nobody = {k for k in kwargs if not any(k in params for params in declared)}
    with isolated_run():
        await composite(**kwargs)
    for i, params in enumerate(declared):
        first = i == 0 or kind == "group"
        assert seen[i] == {k: v for k, v in kwargs.items()
                           if k in params or (first and k in nobody)}


# -- construction-time checks ----------------------------------------------------------------
async def _called() -> None: ...


@pytest.mark.parametrize("make", [
    lambda bad: chain(lint, bad, deploy),
    lambda bad: ChainedAction("pipeline", [lint, bad, deploy]),
])
def test_a_called_step_in_a_chain_is_a_type_error_naming_its_position(make) -> None:
    coro = _called()
    with pytest.raises(TypeError, match=r"actions\[1\] is a coroutine object: _called\(\) was "):
        make(coro)
    assert coro.cr_frame is None  # closed: no "never awaited" warning later


@pytest.mark.parametrize("make", [lambda: chain(None), lambda: ChainedAction("p", [lint, None])])
def test_none_in_a_chain_is_a_type_error_naming_its_position(make) -> None:
    with pytest.raises(TypeError, match=r"actions\[\d\] is None"):
        make()


def test_a_called_step_in_a_group_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"coroutine object: _called\(\) was called"):
        group(lint, _called())


async def test_literal_values_in_a_chain_stay_allowed() -> None:
    with isolated_run():
        assert await chain(lint, 42, name="c", return_list=True)() == [None, 42]
