"""A rollback must be able to take its step's arguments: checked when the step is defined.

A rollback is called with exactly the arguments its step's callable received (DESIGN §2.4,
§2.10); one that cannot take them used to fail only when it was needed, mid-incident.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from falyx import Action, Falyx, chain
from falyx.action import ShellAction
from falyx.action.action import check_rollback
from falyx.errors import InvalidActionError
from tests.helpers_engine import isolated_run


def package(out_dir: str, extras: list[str] | None = None) -> str:
    return out_dir


def undo_package(out_dir: str, last_result: Any = None) -> None: ...


def test_the_new_users_rollback_is_refused_naming_step_rollback_and_parameter() -> None:
    with pytest.raises(InvalidActionError) as info:
        Action("package", package, rollback=undo_package)
    assert str(info.value) == (
        "step 'package': its rollback undo_package cannot take the step's argument 'extras'; "
        "a rollback is called with exactly the arguments its step received: add 'extras' (or "
        "**kwargs) to the parameters of undo_package")
    assert isinstance(info.value, TypeError)


def test_a_decorated_command_with_such_a_rollback_is_refused_at_registration() -> None:
    app = Falyx("t")

    def undo_build(target: str) -> None: ...

    with pytest.raises(InvalidActionError, match=r"'build'.*undo_build.*'dry_run'"):
        @app.command(rollback=undo_build)
        def build(target: str = "prod", *, dry_run: bool = False) -> None: ...


def test_a_rollback_requiring_what_its_step_never_receives_is_refused() -> None:
    def clean(out_dir: str) -> None: ...

    def undo(out_dir: str, *, force: bool) -> None: ...

    with pytest.raises(InvalidActionError) as info:
        Action("clean", clean, rollback=undo)
    assert str(info.value) == (
        "step 'clean': its rollback undo cannot be called with the arguments the step may "
        "receive (missing a required argument: 'force'); a rollback is called with exactly "
        "the arguments its step received")


def test_an_injected_last_result_must_be_taken_too() -> None:
    def build(last_result: Any = None) -> None: ...

    def undo() -> None: ...

    Action("build", build, rollback=undo)  # nothing is injected: fine
    with pytest.raises(InvalidActionError, match=r"'build'.*'last_result'"):
        Action("build", build, rollback=undo, inject_last_result=True)
    with pytest.raises(InvalidActionError, match=r"'build'.*'last_result'"):
        chain(lambda: 1, Action("build", build, rollback=undo), auto_inject=True)


def _kw(**kwargs: Any) -> None: ...


def _anything(*args: Any, **kwargs: Any) -> None: ...


def _defaults(out_dir: str = "", extras: Any = None, last_result: Any = None) -> None: ...


def _by_position(first: str, second: str) -> None: ...


class _Undo:
    def __call__(self, out_dir: str, extras: Any = None) -> None: ...


@pytest.mark.parametrize(("options", "rollback"), [
    ({}, _kw),
    ({}, _anything),
    ({}, _defaults),
    ({}, _Undo()),
    ({"args": ("dist", ["docs"])}, _by_position),  # stored args arrive by position
    ({"kwargs": {"extras": ["docs"]}}, _defaults),
    ({}, Action("undo", _kw)),
    ({}, ShellAction("undo", ["echo", "removing {out_dir}"])),  # ignores extra keywords
], ids=["kwargs", "args-and-kwargs", "defaults", "callable-object", "stored-args",
        "stored-kwargs", "action", "shell-action"])
def test_rollbacks_that_work_are_accepted(options: dict[str, Any], rollback: Any) -> None:
    assert Action("package", package, rollback=rollback, **options).rollback is rollback


def test_an_action_given_as_rollback_is_checked_through_its_function_and_stored_args() -> None:
    def clean(out_dir: str) -> None: ...

    def undo(mode: str, out_dir: str) -> None: ...

    with pytest.raises(InvalidActionError, match=r"'clean'.*undo.*'mode'"):
        Action("clean", clean, rollback=Action("undo", undo))
    Action("clean", clean, rollback=Action("undo", undo, args=("force",)))


# -- the check agrees with what a run does -------------------------------------------------
P = inspect.Parameter
KINDS = [P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD, P.KEYWORD_ONLY]


@st.composite
def signatures(draw: Any) -> inspect.Signature:
    """A valid signature over the names a..d, with or without `*args` and `**kwargs`."""
    names = draw(st.lists(st.sampled_from("abcd"), unique=True, max_size=4))
    params = sorted(((draw(st.sampled_from(KINDS)), name, draw(st.booleans()))
                     for name in names), key=lambda p: p[0])
    out, defaulted = [], False
    for kind, name, default in params:
        defaulted = (defaulted or default) and kind is not P.KEYWORD_ONLY
        out.append(P(name, kind, default=None if default or defaulted else P.empty))
    if draw(st.booleans()):
        at = sum(p.kind is not P.KEYWORD_ONLY for p in out)
        out.insert(at, P("args", P.VAR_POSITIONAL))
    if draw(st.booleans()):
        out.append(P("kwargs", P.VAR_KEYWORD))
    return inspect.Signature(out)


def function(name: str, signature: inspect.Signature, calls: list[Any]) -> Any:
    namespace: dict[str, Any] = {"calls": calls}
    exec(f"def {name}{signature}:\n    calls.append('{name}')", namespace)
    return namespace[name]


@settings(max_examples=150, deadline=None)
@given(step_signature=signatures(), rollback_signature=signatures())
@example(  # found on 3.13, whose Signature.bind takes b= for a defaulted positional-only b
    step_signature=inspect.Signature([P("b", P.POSITIONAL_OR_KEYWORD)]),
    rollback_signature=inspect.Signature([P("a", P.POSITIONAL_ONLY, default=None),
                                          P("b", P.POSITIONAL_ONLY, default=None)]))
def test_a_pair_is_refused_exactly_when_the_fullest_call_would_break_its_rollback(
    step_signature: inspect.Signature, rollback_signature: inspect.Signature
) -> None:
    """The step runs first in a chain with its fullest call (positional-only parameters by
    position, every other named one by name, as the CLI passes options); the next step fails,
    so the rollback is called with what the step received. It fails with a TypeError exactly
    when the check refuses the pair at definition."""
    calls: list[str] = []
    step_fn = function("step", step_signature, calls)
    undo = function("undo", rollback_signature, calls)
    try:
        Action("step", step_fn, rollback=undo)
        refused = False
    except InvalidActionError:
        refused = True
    unchecked = Action("step", step_fn)
    unchecked.rollback = undo  # as if there were no check
    params = step_signature.parameters.values()
    positional = [None for p in params if p.kind is P.POSITIONAL_ONLY]
    keywords = {p.name: None for p in params if p.kind in (P.POSITIONAL_OR_KEYWORD,
                                                            P.KEYWORD_ONLY)}

    def fail() -> None:
        raise RuntimeError("next step failed")

    with isolated_run(), pytest.raises(RuntimeError) as info:
        asyncio.run(chain(unchecked, fail)(*positional, **keywords))
    errors = getattr(info.value, "rollback_errors", [])
    assert calls[0] == "step"
    assert refused == any(isinstance(e, TypeError) for e in errors)
    assert calls == (["step"] if refused else ["step", "undo"])


def test_check_rollback_is_the_check_actions_run() -> None:
    def undo(out_dir: str) -> None: ...

    step = Action("package", package)
    step.rollback = undo
    with pytest.raises(InvalidActionError, match="'extras'"):
        check_rollback(step)
