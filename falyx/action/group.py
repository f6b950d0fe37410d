"""`ActionGroup`: members run concurrently; results in declaration order."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from falyx.action.action import to_action
from falyx.action.base import BaseAction, PreviewNode, UndoEntry, rollback
from falyx.action.options import RunOptions
from falyx.action.scopes import start_tasks, wait_tasks
from falyx.context import ExecutionContext, SharedContext
from falyx.errors import ActionGroupError, EmptyGroupError, FalyxError

__all__ = ["ActionGroup", "group", "group_error"]


class ActionGroup(BaseAction):
    """Run members concurrently with the same arguments; fail as one if any fails."""

    kind = "ActionGroup"
    icon = "⇉"
    is_leaf = False

    def __init__(
        self, name: str, actions: Iterable[Any] = (), *, fail_fast: bool = False, **options: Any
    ) -> None:
        super().__init__(name, **options)
        self.actions: list[BaseAction] = [to_action(a) for a in actions]
        self.fail_fast = fail_fast

    def accepts_keyword(self, keyword: str) -> bool:
        return all(a.accepts_keyword(keyword) for a in self.actions)

    async def _run(self, ctx: ExecutionContext) -> list[tuple[str, Any]]:
        if not self.actions:
            raise EmptyGroupError(f"group '{self.name}' has no members to run")
        shared = ctx.shared = SharedContext(self.name, "group")
        tasks = start_tasks(m._execute(ctx.args, dict(ctx.kwargs)) for m in self.actions)
        try:
            await wait_tasks(tasks, self.fail_fast)
        except BaseException as exc:  # cancelled from outside: undo the members that finished
            await rollback(_undo_of(tasks), exc)
            raise
        failures: list[tuple[str, BaseException]] = []
        cut_short = self.fail_fast and any(
            not t.cancelled() and t.exception() is not None for t in tasks)
        for member, task in zip(self.actions, tasks, strict=True):
            if task.cancelled():
                if not cut_short:  # a member cancelled itself: that is a failure, not a skip
                    failures.append((member.name, FalyxError(f"'{member.name}' was cancelled")))
                continue
            if task.exception() is None:
                shared.results.append((member.name, task.result().result))
            else:
                failures.append((member.name, task.exception()))  # type: ignore[arg-type]
        if failures:
            shared.errors.extend(failures)
            error = group_error(self.name, len(self.actions), failures, shared.results)
            await rollback(_undo_of(tasks), error, after="', '".join(n for n, _ in failures))
            raise error
        ctx.undo = _undo_of(tasks)
        return list(shared.results)

    def preview(self, options: RunOptions | None = None) -> PreviewNode:
        node = super().preview(options)
        node.children.extend(member.preview(options) for member in self.actions)
        return node

    def __repr__(self) -> str:
        return (f"ActionGroup(name={self.name!r}, actions={[a.name for a in self.actions]!r}, "
                f"fail_fast={self.fail_fast})")


def _undo_of(tasks: list[asyncio.Future[ExecutionContext]]) -> list[UndoEntry]:
    """The undo entries of the members that completed, in declaration order."""
    undo: list[UndoEntry] = []
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is None:
            undo.extend(task.result().undo)
    return undo


def group_error(
    name: str, total: int, failures: list[tuple[str, BaseException]], results: list[Any]
) -> ActionGroupError:
    """An `ActionGroupError` whose message names every failed member."""
    detail = "; ".join(f"{member}: {type(e).__name__}: {e}" for member, e in failures)
    return ActionGroupError(
        f"group '{name}': {len(failures)} of {total} failed ({detail})",
        [e for _, e in failures],  # type: ignore[misc]
        results,
    )


def group(*steps: Any, name: str | None = None, fail_fast: bool = False, **options: Any):
    """An `ActionGroup` from functions, actions or decorated commands."""
    actions = [to_action(s) for s in steps]
    name = name or " & ".join(a.name for a in actions) or "group"
    return ActionGroup(name, actions, fail_fast=fail_fast, **options)
