"""Which parameters a command takes on the command line, read from its first step."""

from __future__ import annotations

import inspect
import typing
from typing import Any

from falyx.action.action import Action
from falyx.action.base import BaseAction
from falyx.action.chain import ChainedAction
from falyx.action.group import ActionGroup
from falyx.command import Command

__all__ = ["cli_parameters"]

_SKIP_KINDS = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def _entry_function(step: BaseAction) -> tuple[Any, tuple[Any, ...], dict[str, Any], str]:
    """The callable that receives a command's arguments, with its stored args and kwargs."""
    while True:
        if isinstance(step, Command):
            step = step.action
        elif isinstance(step, ChainedAction) and step.actions:
            step = step.actions[0]
        elif isinstance(step, ActionGroup) and step.actions:
            _check_group_agrees(step)
            step = step.actions[0]
        elif isinstance(step, Action):  # ProcessAction included
            return step.fn, step.args, step.kwargs, step.inject_into
        else:
            return None, (), {}, "last_result"


def _names(step: BaseAction) -> list[str]:
    return [p.name for p in cli_parameters(step)]


def _check_group_agrees(group: ActionGroup) -> None:
    first = _names(group.actions[0])
    for member in group.actions[1:]:
        if _names(member) != first:
            raise TypeError(
                f"group '{group.name}': members take different command-line parameters "
                f"({first} vs {_names(member)} in '{member.name}'); give them the same signature"
            )


def cli_parameters(step: BaseAction) -> list[inspect.Parameter]:
    """Keyword-only parameters, annotations resolved, for the command-line form of `step`."""
    fn, stored_args, stored_kwargs, inject_into = _entry_function(step)
    if fn is None:
        return []
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception:  # unresolvable annotations: fall back to what is written
        hints = {}
    params = [p for p in signature.parameters.values() if p.kind not in _SKIP_KINDS]
    positional = [p for p in params if p.kind is not p.KEYWORD_ONLY]
    # stored positional args are appended after the call args: they fill the last parameters
    bound = {p.name for p in positional[len(positional) - len(stored_args):]}
    out = []
    for p in params:
        if p.name in bound or p.name in stored_kwargs or p.name == inject_into:
            continue
        annotation = hints.get(p.name, p.annotation)
        if annotation is inspect.Parameter.empty:
            has_default = p.default not in (inspect.Parameter.empty, None)
            annotation = type(p.default) if has_default else str
        out.append(p.replace(kind=p.KEYWORD_ONLY, annotation=annotation))
    return out
