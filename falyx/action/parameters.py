"""The parameter protocol: which keyword arguments of a call each step takes (DESIGN §2.1).

A step's `parameters()` are the named parameters it takes from a call's keyword arguments.
A command's CLI options are those of its action; a composite's are the union of its steps'.
At run time a chain or group hands each keyword only to the steps that declare it.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any

from falyx.errors import RegistrationError

if TYPE_CHECKING:
    from falyx.action.base import BaseAction

__all__ = [
    "REQUIRED_OPTION", "function_parameters", "is_async_callable", "merged_parameters",
    "route_kwargs",
]


class _RequiredOption:
    """The default of a parameter that must be given by name (a required `--option`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "REQUIRED_OPTION"


#: The `default` of a required keyword parameter: a keyword-only function parameter without a
#: default, or a shell step's `params={"tag": ...}`. The CLI makes it a required option
#: (`--tag`); a positional parameter without a default (`Parameter.empty`) is an argument.
REQUIRED_OPTION = _RequiredOption()


def is_async_callable(fn: Any) -> bool:
    """True when calling `fn` returns a coroutine (functions, partials, async __call__)."""
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - callable objects with async __call__
    )


_KEYWORD_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
_POSITIONAL_KINDS = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def function_parameters(
    fn: Callable[..., Any], stored_args: tuple[Any, ...], stored_kwargs: Mapping[str, Any],
    inject_into: str,
) -> tuple[list[inspect.Parameter], bool]:
    """The keyword parameters a call of `fn` may set, and whether `fn` takes `**kwargs`.

    Returns KEYWORD_ONLY parameters with annotations resolved (`Parameter.empty` where none is
    written) and their defaults (a keyword-only parameter without one gets `REQUIRED_OPTION`,
    a positional one keeps `Parameter.empty`), leaving out positional-only parameters, those
    the stored `args`/`kwargs` fill (stored args go after the call's, so they fill the last
    positional parameters) and `inject_into`. A callable without a signature takes nothing by name.
    """
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return [], False
    hints = _type_hints(fn)
    params = list(signature.parameters.values())
    positional = [p for p in params if p.kind in _POSITIONAL_KINDS]
    filled = {p.name for p in positional[max(0, len(positional) - len(stored_args)):]} \
        if stored_args else set()
    out = [
        p.replace(kind=p.KEYWORD_ONLY, annotation=hints.get(p.name, p.annotation),
                  default=REQUIRED_OPTION if p.kind is p.KEYWORD_ONLY and p.default is p.empty
                  else p.default)
        for p in params
        if p.kind in _KEYWORD_KINDS and p.name not in filled and p.name not in stored_kwargs
        and p.name != inject_into
    ]
    return out, any(p.kind is p.VAR_KEYWORD for p in params)


def _type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """`typing.get_type_hints`, one annotation at a time when some cannot be resolved (those
    stay strings; `falyx.signature` reports them if they would become CLI options)."""
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception:
        pass
    namespace = getattr(inspect.unwrap(fn), "__globals__", None)
    if namespace is None:
        return {}
    hints = {}
    for name, annotation in getattr(fn, "__annotations__", {}).items():
        probe = types.FunctionType(_PROBE, namespace)  # resolves names where fn would
        probe.__annotations__ = {name: annotation}
        try:
            hints.update(typing.get_type_hints(probe, include_extras=True))
        except Exception:
            continue
    return hints


def _probe() -> None: ...


_PROBE = _probe.__code__


def merged_parameters(owner: str, steps: Iterable[BaseAction]) -> list[inspect.Parameter]:
    """The union of the steps' parameters, in order of first appearance.

    Raises:
        RegistrationError: two steps declare one name with different types or defaults.
    """
    seen: dict[str, tuple[inspect.Parameter, str]] = {}
    for step in steps:
        for param in step.parameters():
            first = seen.get(param.name)
            if first is None:
                seen[param.name] = (param, step.name)
            elif not _agree(first[0], param):
                raise RegistrationError(
                    f"{owner}: parameter '{param.name}' is declared as {_describe(first[0])} by "
                    f"step '{first[1]}' but as {_describe(param)} by step '{step.name}'; a name "
                    "shared by several steps needs one type and one default")
    return [param for param, _ in seen.values()]


def route_kwargs(
    owner: BaseAction, step: BaseAction, kwargs: dict[str, Any], first: bool
) -> dict[str, Any]:
    """The call keywords `step` of composite `owner` receives (DESIGN §2.1).

    Each keyword goes to the steps that declare it; a first step (every member of a group)
    also gets those no step declares, so a misspelt keyword still fails loudly.
    """
    return {name: value for name, value in kwargs.items()
            if step.declares(name) or (first and not owner.declares(name))}


def _base_type(annotation: Any) -> Any:
    """`Annotated[str, typer.Option(...)]` -> `str`: option metadata does not change the type."""
    if typing.get_origin(annotation) is Annotated:
        return annotation.__origin__
    return annotation


def _agree(a: inspect.Parameter, b: inspect.Parameter) -> bool:
    try:
        same_default = a.default is b.default or bool(a.default == b.default)
    except Exception:  # a default whose == raises or is ambiguous (arrays): only itself agrees
        same_default = False
    return same_default and _base_type(a.annotation) == _base_type(b.annotation)


def _describe(param: inspect.Parameter) -> str:
    kind = _base_type(param.annotation)
    kind = "no annotation" if kind is inspect.Parameter.empty else inspect.formatannotation(kind)
    default = ("required" if param.default in (inspect.Parameter.empty, REQUIRED_OPTION)
               else f"= {param.default!r}")
    return f"{kind} ({default})"
