"""`ChainedAction`: steps in order, results injected forward, rollback backwards."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from falyx.action.action import chain_item
from falyx.action.base import BaseAction, UndoEntry
from falyx.action.composite import CompositeAction, check_injectable, entry_kwargs, handed_in
from falyx.action.parameters import route_kwargs
from falyx.deferred import deferred
from falyx.errors import EmptyChainError

if TYPE_CHECKING:
    from falyx.context import ExecutionContext

context = deferred("falyx.context")  # run-time only (falyx.deferred)

__all__ = ["ChainedAction", "chain"]


class ChainedAction(CompositeAction):
    """Run steps one after another; on failure undo the completed ones in reverse.

    A step receives the previous result as keyword `inject_into` when it asks
    (`inject_last_result=True`) or the chain has `auto_inject=True` (every step but the
    first); the first step receives what the chain itself is handed: the enclosing chain's
    previous result (None at the top). A nested composite that is injected into passes
    the value on to its entry steps (DESIGN §2.1, §2.15). `actions=None` is an empty chain:
    running it raises `EmptyChainError`.
    """

    kind = "ChainedAction"
    icon = "⛓"
    label = "chain"

    def __init__(
        self,
        name: str,
        actions: Iterable[Any] | None = None,
        *,
        auto_inject: bool = False,
        return_list: bool = False,
        **options: Any,
    ) -> None:
        self.auto_inject = auto_inject
        self.return_list = return_list
        self._injects: list[bool] = []
        super().__init__(name, actions, **options)

    def accepts_keyword(self, keyword: str) -> bool:
        steps = self._steps()
        return not steps or steps[0].accepts_keyword(keyword)

    def _entries(self, steps: list[BaseAction]) -> list[BaseAction]:
        return steps[:1]

    def _check(self, steps: list[BaseAction]) -> None:
        super()._check(steps)
        if self.auto_inject:
            for step in steps[1:]:
                check_injectable(step, step.inject_into, f" in chain '{self.name}'")

    def _prepare_steps(self) -> None:
        super()._prepare_steps()
        # Which leaves get the previous result as a keyword, decided once per change of
        # the list (steps are never mutated); composites read what they are handed.
        self._injects = [i > 0 and s.is_leaf and (self.auto_inject or s.inject_last_result)
                         for i, s in enumerate(self._prepared)]

    async def _run(self, ctx: ExecutionContext) -> Any:
        steps = self._steps()
        if not steps:
            raise EmptyChainError(f"chain '{self.name}' has no steps to run")
        upstream, key = handed_in(ctx, self)
        shared = ctx.shared = context.SharedContext(
            self.name, "chain", upstream=upstream, forward_as=key,
            auto_inject=self.auto_inject, members=steps)
        undo: list[UndoEntry] = []
        call_kwargs = ctx.kwargs  # each one goes to the steps that declare it (§2.1)
        first = route_kwargs(self, steps[0], call_kwargs, True) if call_kwargs else call_kwargs
        args, kwargs = ctx.args, entry_kwargs(steps[0], first, upstream, key)
        results = shared.results
        try:
            for step, injects in zip(steps, self._injects, strict=True):
                if results:  # every step after the first: no call args, maybe the last result
                    args, kwargs = (), {step.inject_into: results[-1]} if injects else {}
                    if call_kwargs:
                        kwargs = {**route_kwargs(self, step, call_kwargs, False), **kwargs}
                done = await step._execute(args, kwargs)
                if done.undo:
                    undo.extend(done.undo)
                results.append(done.result)
        except BaseException as exc:
            from falyx.action.undo import rollback

            shared.errors.append((self.name, exc))
            await rollback(undo, exc, after=step.name)
            raise
        ctx.undo = undo
        return list(shared.results) if self.return_list else shared.last_result

    def __repr__(self) -> str:
        return (
            f"ChainedAction(name={self.name!r}, actions={self._step_names()!r}, "
            f"auto_inject={self.auto_inject}, return_list={self.return_list})"
        )


def chain(
    *steps: Any,
    name: str | None = None,
    auto_inject: bool = False,
    return_list: bool = False,
    **options: Any,
) -> ChainedAction:
    """A `ChainedAction` from functions, actions, decorated commands or literal values.

    Raises:
        TypeError: a step is None or a coroutine object (`b()` passed for `b`).
    """
    actions = [chain_item(s, "chain()", i) for i, s in enumerate(steps)]
    name = name or " -> ".join(a.name for a in actions) or "chain"
    return ChainedAction(name, actions, auto_inject=auto_inject, return_list=return_list,
                         **options)
