"""Process steps: run picklable callables in another process without blocking the loop."""

from __future__ import annotations

import asyncio
import functools
import pickle
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from falyx.action.action import Action
from falyx.action.base import BaseAction, PreviewNode
from falyx.action.executors import check_executor, resolve_executor
from falyx.action.group import group_error
from falyx.action.options import RunOptions
from falyx.action.scopes import wait_tasks
from falyx.context import ExecutionContext
from falyx.errors import EmptyGroupError, InvalidActionError, NotPicklableError

__all__ = ["ProcessAction", "ProcessPoolAction", "ProcessTask"]


def _check_picklable(
    step: str, executor: Executor, fn: Callable[..., Any], args: tuple, kwargs: Mapping[str, Any]
) -> None:
    """Raise `NotPicklableError` if the call cannot cross a process boundary."""
    if not isinstance(executor, ThreadPoolExecutor):
        try:
            pickle.dumps((fn, args, dict(kwargs)))
        except Exception as exc:
            raise NotPicklableError(
                f"step '{step}' cannot send {getattr(fn, '__name__', fn)!s} and its arguments to "
                f"another process ({type(exc).__name__}: {exc}); use a module-level function "
                "and picklable arguments"
            ) from exc


def _submit(
    executor: Executor, fn: Callable[..., Any], args: tuple, kwargs: Mapping[str, Any]
) -> asyncio.Future[Any]:
    """Hand one call to the executor; an awaitable future."""
    loop = asyncio.get_running_loop()
    return loop.run_in_executor(executor, functools.partial(fn, *args, **kwargs))


class ProcessAction(Action):
    """An `Action` whose callable runs in a worker process (or any executor)."""

    kind = "ProcessAction"
    icon = "⚡"

    def __init__(
        self,
        name: str,
        action: Callable[..., Any],
        *,
        executor: Executor | str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(name, action, **options)
        check_executor(executor)
        self.executor = executor

    async def _run(self, ctx: ExecutionContext) -> Any:
        executor = resolve_executor(self.executor)
        _check_picklable(self.name, executor, self.fn, ctx.args, ctx.kwargs)
        return await _submit(executor, self.fn, ctx.args, ctx.kwargs)


@dataclass(frozen=True)
class ProcessTask:
    """One call for a `ProcessPoolAction`."""

    task: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not callable(self.task):
            raise InvalidActionError(f"ProcessTask needs a callable, got {self.task!r}")


class ProcessPoolAction(BaseAction):
    """Run many `ProcessTask`s concurrently; results in submission order."""

    kind = "ProcessPoolAction"
    icon = "⚡"

    def __init__(
        self,
        name: str,
        actions: Iterable[ProcessTask | Callable[..., Any]] = (),
        *,
        executor: Executor | str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(name, **options)
        check_executor(executor)
        self.actions = [a if isinstance(a, ProcessTask) else ProcessTask(a) for a in actions]
        self.executor = executor

    async def _run(self, ctx: ExecutionContext) -> list[Any]:
        if not self.actions:
            raise EmptyGroupError(f"process pool '{self.name}' has no tasks to run")
        executor = resolve_executor(self.executor)
        for i, t in enumerate(self.actions):  # all checked before any is submitted
            _check_picklable(f"{self.name}[{i}]", executor, t.task, t.args, t.kwargs)
        futures = [_submit(executor, t.task, t.args, t.kwargs) for t in self.actions]
        await wait_tasks(futures, fail_fast=False)
        failures = [
            (f"{self.name}[{i}]", f.exception()) for i, f in enumerate(futures) if f.exception()
        ]
        if failures:
            results = [f.result() for f in futures if f.exception() is None]
            raise group_error(self.name, len(futures), failures, results)  # type: ignore[arg-type]
        return [f.result() for f in futures]

    def preview(self, options: RunOptions | None = None) -> PreviewNode:
        node = super().preview(options)
        for task in self.actions:
            node.children.append(PreviewNode(f"⚡ {getattr(task.task, '__name__', task.task)}"))
        return node

