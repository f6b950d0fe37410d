"""`Action`: a step that wraps one sync or async callable; `@step` and literal steps."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

from falyx.action.base import BaseAction, PreviewNode, _callable_name
from falyx.action.parameters import function_parameters, is_async_callable
from falyx.errors import InvalidActionError

if TYPE_CHECKING:
    from falyx.action.options import RunOptions
    from falyx.context import ExecutionContext

__all__ = ["Action", "LiteralAction", "accepts_keyword", "chain_item", "check_rollback", "step",
           "to_action"]

F = TypeVar("F", bound=Callable[..., Any])


class Action(BaseAction):
    """Run `action(*call_args, *args, **{**kwargs, **call_kwargs})` through the lifecycle.

    `action` may itself be a step (a decorated command's `Action`, a chain, a shell step...):
    this step then delegates to it, so `Action("slow", deco, timeout=1)` adds a timeout to
    `deco`. Its parameters (CLI options, routing, required options) are the inner step's,
    less those the stored `kwargs` fill; a call hands it exactly what it declares; it runs
    its own lifecycle as a child (hooks, record, its own rollback, which a later failure
    undoes with this step's), and shows in the preview under this one (DESIGN §2.1).
    """

    def __init__(
        self,
        name: str,
        action: Callable[..., Any],
        *,
        args: Iterable[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        if not callable(action):
            raise InvalidActionError(
                f"step '{name}': action must be callable, got {type(action).__name__} {action!r}"
            )
        super().__init__(name, **options)
        self.fn = action
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})
        self._is_async = is_async_callable(action)
        self._inner = action if isinstance(action, BaseAction) else None
        self._parameters: tuple[list[inspect.Parameter], frozenset[str], bool] | None = None
        if self.inject_last_result and not self.accepts_keyword(self.inject_into):
            raise _injection_error(self, self.inject_into)
        if self.rollback is not None:
            check_rollback(self)

    @property
    def action(self) -> Callable[..., Any]:
        """The raw callable (alias of `.fn`)."""
        return self.fn

    def _prepare(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple, dict]:
        if self.args:
            args = (*args, *self.args)
        if self.kwargs:
            kwargs = {**self.kwargs, **kwargs}
        return args, kwargs

    def _run(self, ctx: ExecutionContext) -> Awaitable[Any]:
        if self._inner is not None:
            return self._delegate(ctx)
        # An async function's own coroutine is awaited directly: no extra frame per step.
        if self._is_async:
            return self.fn(*ctx.args, **ctx.kwargs)
        from falyx.action.scopes import call_in_thread  # a thread hop costs far more

        return call_in_thread(self.fn, ctx.args, ctx.kwargs, self.name, ctx)

    async def _delegate(self, ctx: ExecutionContext) -> Any:
        """Run the inner step as a child; its undo entries become this step's."""
        done = await self._inner._execute(ctx.args, ctx.kwargs)  # type: ignore[union-attr]
        ctx.undo = done.undo
        return done.result

    def accepts_keyword(self, keyword: str) -> bool:
        if self._inner is not None:
            return self._inner.accepts_keyword(keyword)
        return accepts_keyword(self.fn, keyword)

    def _children(self) -> Sequence[BaseAction]:
        return () if self._inner is None else (self._inner,)

    def preview(self, options: RunOptions | None = None) -> PreviewNode:
        node = super().preview(options)
        if self._inner is not None:
            node.children.append(self._inner.preview(options))
        return node

    def _signature(self) -> tuple[list[inspect.Parameter], frozenset[str], bool]:
        # Read once: a step's callable, stored arguments and inject_into never change.
        if self._parameters is None and self._inner is not None:
            return self._inner_signature(self._inner)
        if self._parameters is None:
            params, var_keyword = function_parameters(self.fn, self.args, self.kwargs,
                                                      self.inject_into)
            self._parameters = (params, frozenset(p.name for p in params), var_keyword)
        return self._parameters

    def _inner_signature(
        self, inner: BaseAction
    ) -> tuple[list[inspect.Parameter], frozenset[str], bool]:
        """The inner step's parameters less those this step's stored arguments fill. Not
        cached: a composite's steps may change between runs."""
        if isinstance(inner, Action) and inner._inner is None and self.args:
            # stored args go after the call's, then the inner step's own: they fill its
            # function's last positional parameters
            params, _ = function_parameters(inner.fn, (*self.args, *inner.args),
                                            {**inner.kwargs, **self.kwargs}, inner.inject_into)
        else:
            params = inner.parameters()
        params = [p for p in params if p.name not in self.kwargs
                  and not (self.inject_last_result and p.name == self.inject_into)]
        names = frozenset(p.name for p in params)
        return params, names, False

    def parameters(self) -> list[inspect.Parameter]:
        """The function's parameters a call may set by keyword (see `BaseAction.parameters`)."""
        return list(self._signature()[0])

    def declares(self, name: str) -> bool:
        """A parameter of that name, or `**kwargs` (which declares every name but the
        `inject_into` keyword: that one only comes by injection)."""
        if self._inner is not None:
            return name not in self.kwargs and self._inner.declares(name)
        _, names, var_keyword = self._signature()
        return name in names or (var_keyword and name != self.inject_into)

    def __repr__(self) -> str:
        fn = getattr(self.fn, "__name__", repr(self.fn))
        return (
            f"{type(self).__name__}(name={self.name!r}, action={fn}, args={self.args!r}, "
            f"kwargs={self.kwargs!r}, retry={self.retry_policy is not None}, "
            f"rollback={self.rollback is not None})"
        )


class LiteralAction(BaseAction):
    """A step that returns a fixed value (plain values in a chain become these)."""

    icon = "≡"
    kind = "Literal"

    def __init__(self, value: Any, name: str | None = None) -> None:
        super().__init__(name or f"literal {value!r}"[:60])
        self.value = value

    async def _run(self, ctx: ExecutionContext) -> Any:
        return self.value


def accepts_keyword(fn: Callable[..., Any], keyword: str) -> bool:
    """Whether `fn` can be called with `keyword=` (a named parameter or `**kwargs`)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature: let the call decide
        return True
    return any(
        p.kind is p.VAR_KEYWORD
        or (p.name == keyword and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
        for p in params
    )


def check_rollback(action: Action, injected: str | None = None) -> None:
    """Refuse a rollback that cannot take the arguments its step may receive (DESIGN §2.4).

    A rollback is called with exactly the arguments its step's callable received (§2.10), so
    the fullest call the step accepts must bind to the rollback's signature: its stored
    arguments and the positional parameters before them positionally, every other named
    parameter but `inject_into` by name (as the CLI passes options), its stored keywords, and
    the keyword it is injected under (`inject_into` with `inject_last_result`, or `injected`:
    a chain's `auto_inject`). `**kwargs`, defaults and `*args` on the rollback take what they
    take. A rollback that is an `Action` is checked through its function (with its own
    stored arguments); other steps (a `ShellAction` ignores extra keywords), callables
    without a signature and steps wrapping a step are not checked.

    Raises:
        InvalidActionError: naming the step, the rollback and the parameter.
    """
    rollback, extra_args, extra_kwargs = action.rollback, (), {}
    if isinstance(action.fn, BaseAction):  # what it receives is what its inner step declares
        return
    if isinstance(rollback, Action):
        rollback, extra_args, extra_kwargs = rollback.fn, rollback.args, rollback.kwargs
    elif isinstance(rollback, BaseAction):
        return
    try:
        signature = inspect.signature(rollback)
    except (TypeError, ValueError):  # nothing to check against
        return
    call = _fullest_call(action, injected)
    if call is None:
        return
    positional, keywords = (*call[0], *extra_args), {**call[1], **extra_kwargs}
    params = signature.parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        # a keyword named like a positional-only parameter goes to **kwargs in a call, while
        # `Signature.bind` (3.10-3.12) refuses it
        bound = {k: v for k, v in keywords.items()
                 if k not in params or params[k].kind is not params[k].POSITIONAL_ONLY}
    else:
        bound = keywords
    try:
        if any(k in params and params[k].kind is params[k].POSITIONAL_ONLY for k in bound):
            # what the call raises; `Signature.bind` (3.13) accepts it when the parameter
            # has a default
            raise TypeError("positional-only arguments passed as keyword arguments")
        signature.bind(*positional, **bound)
    except TypeError as exc:
        raise InvalidActionError(_rollback_mismatch(action, signature, keywords, exc)) from None


def _fullest_call(
    action: Action, injected: str | None
) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
    """The positional and keyword arguments of the fullest call the step's function accepts
    (placeholders for the values), or None when it has no signature."""
    try:
        params = list(inspect.signature(action.fn).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if action.args:  # stored args follow the call's: the parameters before them come first
        lead = positional[:max(0, len(positional) - len(action.args))]
        filled = positional[len(lead):]
    else:
        lead, filled = [p for p in positional if p.kind is p.POSITIONAL_ONLY], []
    named = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
             and p not in lead and p not in filled and p.name != action.inject_into]
    if action.inject_last_result:
        named.append(action.inject_into)
    if injected:
        named.append(injected)
    keywords = {**dict.fromkeys(named), **action.kwargs}
    return (*(None for _ in lead), *action.args), keywords


def _rollback_mismatch(action: Action, signature: inspect.Signature, keywords: dict[str, Any],
                       exc: TypeError) -> str:
    name = _callable_name(action.rollback).rsplit("<locals>.", 1)[-1]
    where = f"step '{action.name}': its rollback {name}"
    takes_any = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    for keyword in keywords:
        param = signature.parameters.get(keyword)
        if not takes_any and (param is None or param.kind is param.POSITIONAL_ONLY):
            return (f"{where} cannot take the step's argument '{keyword}'; a rollback is "
                    f"called with exactly the arguments its step received: add '{keyword}' "
                    f"(or **kwargs) to the parameters of {name}")
    return (f"{where} cannot be called with the arguments the step may receive ({exc}); a "
            "rollback is called with exactly the arguments its step received")


def to_action(obj: Any) -> BaseAction:
    """A step from a step, a callable (wrapped in `Action`), or any other value (a literal).

    Raises:
        TypeError: `obj` is a coroutine object (a step called by mistake: `b()` for `b`).
    """
    if isinstance(obj, BaseAction):
        return obj
    if callable(obj):
        return Action(getattr(obj, "__name__", type(obj).__name__), obj)
    if inspect.iscoroutine(obj):
        raise TypeError(_called_by_mistake(obj, "a step"))
    return LiteralAction(obj)


def chain_item(obj: Any, owner: str, position: int) -> BaseAction:
    """Item `position` (0-based) of a chain as a step; literal values return themselves.

    Raises:
        TypeError: the item is None or a coroutine object, naming `owner` and the position.
    """
    if obj is None:
        raise TypeError(f"{owner}: actions[{position}] is None; a step must be a function, an "
                        "action or a literal value")
    if inspect.iscoroutine(obj):
        raise TypeError(_called_by_mistake(obj, f"{owner}: actions[{position}]"))
    return to_action(obj)


def _called_by_mistake(coro: Any, what: str) -> str:
    name = getattr(coro, "__qualname__", "the function")
    coro.close()  # never awaited on purpose: no "coroutine was never awaited" warning later
    return (f"{what} is a coroutine object: {name}() was called; pass the function {name} "
            "itself")


def _injection_error(target: BaseAction, keyword: str, where: str = "") -> TypeError:
    return TypeError(
        f"step '{target.name}'{where} gets the previous result as keyword '{keyword}', but its "
        f"function has no '{keyword}' parameter; add `{keyword}=None` to its signature or "
        f"set inject_into= to a parameter it has"
    )


@overload
def step(fn: F, /) -> Action: ...
@overload
def step(
    *, name: str | None = None, **options: Any
) -> Callable[[Callable[..., Any]], Action]: ...
def step(fn: Callable[..., Any] | None = None, /, *, name: str | None = None, **options: Any):
    """Turn a function into an `Action` without registering a command (bare or called)."""

    def wrap(func: Callable[..., Any]) -> Action:
        return Action(name or func.__name__, func, **options)

    return wrap if fn is None else wrap(fn)
