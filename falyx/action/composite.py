"""What chains and groups share: their list of steps, its API, and injection through them.

Injection through nested composites (DESIGN §2.15) travels in the `SharedContext` of the
composite running a member, never as a keyword call argument: a nested chain or group
reads what its enclosing composite hands it (`handed_in`) when it starts, and gives it to
its own entry steps (`entry_kwargs`): a chain's first step, a group's members.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from falyx.action.action import Action, _injection_error, chain_item, check_rollback
from falyx.action.base import BaseAction, PreviewNode
from falyx.action.parameters import merged_parameters

if TYPE_CHECKING:
    from falyx.action.options import RunOptions
    from falyx.context import ExecutionContext

__all__ = ["CompositeAction", "entry_kwargs", "handed_in"]


class CompositeAction(BaseAction):
    """A step made of steps (`ChainedAction`, `ActionGroup`), with the list API.

    `actions` is a plain list the user may change before a run (append, insert, replace,
    or assign a new list): each run checks it against the list it last prepared, in
    O(steps) identity comparisons, and prepares it again when it differs (plain
    callables and values become steps; injection is checked).
    """

    is_leaf = False
    #: How errors name this kind of composite: "chain 'release'".
    label = "composite"

    def __init__(self, name: str, actions: Iterable[Any] | None = None, **options: Any) -> None:
        # Subclasses set their own attributes before calling this: `_check` reads them.
        super().__init__(name, **options)
        owner = f"{self.label} '{name}'"
        self.actions: list[BaseAction] = [
            chain_item(a, owner, i) for i, a in enumerate(actions or ())]
        self._prepared: list[BaseAction] = []
        self._steps()  # check now: a mistake surfaces where the composite is built

    # -- the list API (the original Falyx's) -------------------------------------------
    def add_action(self, action: Any) -> BaseAction:
        """Append a step (a callable is wrapped in `Action`); returns the step."""
        step = chain_item(action, f"{self.label} '{self.name}'", len(self.actions))
        self._check([*self._steps(), step])
        self.actions.append(step)
        return step

    def remove_action(self, name: str) -> BaseAction:
        """Remove the first step called `name` and return it; `KeyError` if there is none."""
        step = self.get_action(name)
        del self.actions[next(i for i, s in enumerate(self.actions) if s is step)]
        return step

    def get_action(self, name: str) -> BaseAction:
        """The first step called `name`; `KeyError` naming it if there is none."""
        for step in self._steps():
            if step.name == name:
                return step
        raise KeyError(f"{self.kind} '{self.name}' has no step named '{name}'")

    def has_action(self, name: str) -> bool:
        """Whether a step called `name` is in this composite."""
        return any(step.name == name for step in self._steps())

    # -- preparing the list --------------------------------------------------------------
    def _steps(self) -> list[BaseAction]:
        """The steps to run, prepared again when `actions` changed since the last run."""
        if self.actions != self._prepared:  # identity first: a few ns per step
            self._prepare_steps()
        return self._prepared

    def _prepare_steps(self) -> None:
        if not isinstance(self.actions, list):  # a tuple or generator was assigned
            self.actions = list(self.actions)
        owner = f"{self.label} '{self.name}'"
        steps = [chain_item(a, owner, i) for i, a in enumerate(self.actions)]
        self._check(steps)
        self.actions[:] = steps
        self._prepared = list(steps)

    def _check(self, steps: list[BaseAction]) -> None:
        """Raise `TypeError` if a step would be handed a keyword it cannot take."""
        if self.inject_last_result:
            _check_entries(self, steps, self.inject_into)

    def _entries(self, steps: list[BaseAction]) -> list[BaseAction]:
        """The steps that start first and so receive what this composite is handed."""
        return steps

    def _children(self) -> list[BaseAction]:
        return self._steps()

    # -- the parameter protocol (DESIGN §2.1, §2.6) ---------------------------------------
    def parameters(self) -> list[inspect.Parameter]:
        """The union of every step's parameters; `RegistrationError` if a shared name
        is declared with two types or defaults."""
        return merged_parameters(f"{self.label} '{self.name}'", self._steps())

    def declares(self, name: str) -> bool:
        return any(step.declares(name) for step in self._steps())

    def preview(self, options: RunOptions | None = None) -> PreviewNode:
        node = super().preview(options)
        node.children.extend(step.preview(options) for step in self._steps())
        return node

    def _step_names(self) -> list[str]:
        """For `repr`: never prepares (so never raises), whatever the list holds."""
        return [getattr(a, "name", repr(a)) for a in self.actions]


def handed_in(ctx: ExecutionContext, step: BaseAction) -> tuple[Any, str | None]:
    """What `step`, a composite starting in `ctx`, is handed by the composite running it.

    Returns `(previous result, keyword)`: the enclosing chain's previous result (None at
    the top, or when `step` is not a member being started, e.g. a rollback or a step run
    from a hook), and the keyword its entry steps receive it under without asking (its own
    `inject_into` when it has `inject_last_result=True`), or None.
    """
    parent = ctx.parent
    outer = None if parent is None else parent.shared
    handed = None if outer is None else outer.handoff(step)
    value, key = (None, None) if handed is None else handed
    return value, step.inject_into if step.inject_last_result else key


def entry_kwargs(
    step: BaseAction, kwargs: dict[str, Any], value: Any, key: str | None
) -> dict[str, Any]:
    """The keyword arguments an entry step is called with, injection included.

    A leaf gets `value` under its own `inject_into` when it asks, and under `key` when its
    composite was injected into, unless the call already gives that keyword (an explicit
    argument wins); a composite reads what it is handed itself.
    """
    if not step.is_leaf or not (step.inject_last_result or key):
        return kwargs
    kwargs = dict(kwargs)
    if step.inject_last_result:
        kwargs.setdefault(step.inject_into, value)
    if key:
        kwargs.setdefault(key, value)
    return kwargs


def _check_entries(composite: CompositeAction, steps: list[BaseAction], key: str) -> None:
    """Every entry step (recursively) must accept `key`; else a `TypeError` naming it."""
    for entry in composite._entries(steps):
        if isinstance(entry, CompositeAction):
            if not entry.inject_last_result:  # it passes `key` on; its own key is its own
                _check_entries(entry, entry._steps(), key)
        elif not entry.accepts_keyword(key):
            raise _injection_error(entry, key, f" in {composite.kind} '{composite.name}'")


def check_injectable(step: BaseAction, key: str, where: str) -> None:
    """`step` is injected into under `key`: it (or its entry steps) must accept it."""
    if isinstance(step, CompositeAction):
        if not step.inject_last_result:
            _check_entries(step, step._steps(), key)
    elif not step.accepts_keyword(key):
        raise _injection_error(step, key, where)
    elif isinstance(step, Action) and step.rollback is not None:
        check_rollback(step, key)  # its rollback receives the injected keyword too
