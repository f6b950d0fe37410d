"""`ChainedAction`: steps in order, results injected forward, rollback backwards."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from falyx.action.action import _injection_error, to_action
from falyx.action.base import BaseAction, PreviewNode, UndoEntry, rollback
from falyx.action.options import RunOptions
from falyx.context import ExecutionContext, SharedContext
from falyx.errors import EmptyChainError

__all__ = ["ChainedAction", "chain"]


class ChainedAction(BaseAction):
    """Run steps one after another; on failure undo the completed ones in reverse."""

    kind = "ChainedAction"
    icon = "⛓"
    is_leaf = False

    def __init__(
        self,
        name: str,
        actions: Iterable[Any] = (),
        *,
        auto_inject: bool = False,
        return_list: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(name, **options)
        self.actions: list[BaseAction] = [to_action(a) for a in actions]
        self.auto_inject = auto_inject
        self.return_list = return_list
        # Which steps get the previous result, decided once: steps are never mutated.
        self._injects = [i > 0 and (auto_inject or s.inject_last_result)
                         for i, s in enumerate(self.actions)]
        for step, injects in zip(self.actions, self._injects, strict=True):
            if injects and not step.accepts_keyword(step.inject_into):
                raise _injection_error(step, step.inject_into, f" in chain '{name}'")

    def accepts_keyword(self, keyword: str) -> bool:
        return not self.actions or self.actions[0].accepts_keyword(keyword)

    async def _run(self, ctx: ExecutionContext) -> Any:
        if not self.actions:
            raise EmptyChainError(f"chain '{self.name}' has no steps to run")
        shared = ctx.shared = SharedContext(self.name, "chain")
        undo: list[UndoEntry] = []
        args, kwargs = ctx.args, ctx.kwargs
        results = shared.results
        try:
            for step, injects in zip(self.actions, self._injects, strict=True):
                if results:  # every step after the first: no call args, maybe the last result
                    args, kwargs = (), {step.inject_into: results[-1]} if injects else {}
                done = await step._execute(args, kwargs)
                if done.undo:
                    undo.extend(done.undo)
                results.append(done.result)
        except BaseException as exc:
            shared.errors.append((self.name, exc))
            await rollback(undo, exc, after=step.name)
            raise
        ctx.undo = undo
        return list(shared.results) if self.return_list else shared.last_result

    def preview(self, options: RunOptions | None = None) -> PreviewNode:
        node = super().preview(options)
        node.children.extend(step.preview(options) for step in self.actions)
        return node

    def __repr__(self) -> str:
        return (
            f"ChainedAction(name={self.name!r}, actions={[a.name for a in self.actions]!r}, "
            f"auto_inject={self.auto_inject}, return_list={self.return_list})"
        )


def chain(
    *steps: Any,
    name: str | None = None,
    auto_inject: bool = False,
    return_list: bool = False,
    **options: Any,
) -> ChainedAction:
    """A `ChainedAction` from functions, actions or decorated commands."""
    actions = [to_action(s) for s in steps]
    name = name or " -> ".join(a.name for a in actions) or "chain"
    return ChainedAction(name, actions, auto_inject=auto_inject, return_list=return_list,
                         **options)
