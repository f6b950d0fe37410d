"""`ActionGroup`: members run concurrently; results in declaration order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from falyx.action.action import chain_item
from falyx.action.base import UndoEntry
from falyx.action.composite import CompositeAction, entry_kwargs, handed_in
from falyx.action.parameters import route_kwargs
from falyx.deferred import deferred
from falyx.errors import ActionGroupError, EmptyGroupError, FalyxError

if TYPE_CHECKING:
    import asyncio

    from falyx.context import ExecutionContext

context = deferred("falyx.context")  # run-time only (falyx.deferred)

__all__ = ["ActionGroup", "group", "group_error"]


class ActionGroup(CompositeAction):
    """Run members concurrently with the same arguments; fail as one if any fails.

    A member with `inject_last_result=True` receives the enclosing chain's previous result
    (None at the top); the others are called without it, unless the group itself is
    injected into, which hands it to every member (DESIGN §2.1, §2.15). `actions=None` is
    an empty group: running it raises `EmptyGroupError`.
    """

    kind = "ActionGroup"
    icon = "⇉"
    label = "group"

    def __init__(
        self,
        name: str,
        actions: Iterable[Any] | None = None,
        *,
        fail_fast: bool = False,
        **options: Any,
    ) -> None:
        self.fail_fast = fail_fast
        super().__init__(name, actions, **options)

    def accepts_keyword(self, keyword: str) -> bool:
        return all(a.accepts_keyword(keyword) for a in self._steps())

    async def _run(self, ctx: ExecutionContext) -> list[tuple[str, Any]]:
        members = self._steps()
        if not members:
            raise EmptyGroupError(f"group '{self.name}' has no members to run")
        upstream, key = handed_in(ctx, self)
        from falyx.action.scopes import start_tasks, wait_tasks
        from falyx.action.undo import rollback

        shared = ctx.shared = context.SharedContext(self.name, "group", upstream=upstream,
                                                    forward_as=key, members=members)
        # every member gets the positional args, and the keywords it declares (§2.1)
        kwargs = ctx.kwargs
        tasks = start_tasks(
            m._execute(ctx.args, entry_kwargs(
                m, route_kwargs(self, m, kwargs, True) if kwargs else {}, upstream, key))
            for m in members)
        try:
            await wait_tasks(tasks, self.fail_fast, [m.name for m in members])
        except BaseException as exc:  # cancelled from outside: undo the members that finished
            await rollback(_undo_of(tasks), exc)
            raise
        failures: list[tuple[str, BaseException]] = []
        cut_short = self.fail_fast and any(
            not t.cancelled() and t.exception() is not None for t in tasks)
        for member, task in zip(members, tasks, strict=True):
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
            error = group_error(self.name, len(members), failures, shared.results)
            await rollback(_undo_of(tasks), error, after="', '".join(n for n, _ in failures))
            raise error
        ctx.undo = _undo_of(tasks)
        return list(shared.results)

    def __repr__(self) -> str:
        return (f"ActionGroup(name={self.name!r}, actions={self._step_names()!r}, "
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
    actions = [chain_item(s, "group()", i) for i, s in enumerate(steps)]
    name = name or " & ".join(a.name for a in actions) or "group"
    return ActionGroup(name, actions, fail_fast=fail_fast, **options)
