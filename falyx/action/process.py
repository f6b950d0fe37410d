"""Process steps: run picklable callables in another process without blocking the loop.

Submission, waiting and stopping live here for both step kinds: a step that is cancelled or
times out stops its tasks (DESIGN §2.14). A pending task is simply cancelled; a running one
on the local pool is interrupted inside its worker, and its worker is killed if it has not
stopped `kill_grace` seconds later. Other executors cannot stop a started task (threads; Dask,
whose workers run a cancelled task to its end): falyx waits for it as for a sync step's thread
(`falyx.action.threads.outlive`), and a task that returned normally makes the step completed
late, so it is rolled back (DESIGN §2.4).
"""

from __future__ import annotations

import asyncio
import contextlib
import pickle
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from falyx.action.action import Action
from falyx.action.base import BaseAction, PreviewNode
from falyx.action.cancellation import note_fate
from falyx.action.executors import check_executor, needs_pickle_check, obtain_executor
from falyx.action.group import group_error
from falyx.action.options import RunOptions
from falyx.action.pool import LocalProcessPool
from falyx.action.scopes import shielded
from falyx.action.threads import StepThreadPool, outlive
from falyx.context import ExecutionContext
from falyx.errors import EmptyGroupError, InvalidActionError, NotPicklableError

__all__ = ["ProcessAction", "ProcessPoolAction", "ProcessTask"]

#: Seconds a cancelled task gets to stop before its worker process is killed.
KILL_GRACE = 5.0


def _pickled(step: str, fn: Callable[..., Any], args: tuple, kwargs: Mapping[str, Any]) -> bytes:
    """`(fn, args, kwargs)` pickled; `NotPicklableError` if it cannot cross a process boundary."""
    try:
        return pickle.dumps((fn, args, dict(kwargs)))
    except Exception as exc:
        raise NotPicklableError(
            f"step '{step}' cannot send {getattr(fn, '__name__', fn)!s} and its arguments to "
            f"another process ({type(exc).__name__}: {exc}); use a module-level function "
            "and picklable arguments"
        ) from exc


def _submit(
    step: str, executor: Executor, fn: Callable[..., Any], args: tuple, kwargs: Mapping[str, Any]
) -> Future[Any]:
    """Hand one call to the executor (pickled once for the local pool)."""
    if isinstance(executor, LocalProcessPool):
        return executor.submit_payload(_pickled(step, fn, args, kwargs))
    if needs_pickle_check(executor):
        _pickled(step, fn, args, kwargs)
    return executor.submit(fn, *args, **kwargs)


async def _wait(executor: Executor, futures: list[Future[Any]], grace: float,
                ctx: ExecutionContext) -> None:
    """Wait until every future is done; if cancelled meanwhile, stop their tasks first.

    On an executor that cannot stop a started task (threads, a user's executor), the queued
    ones are cancelled and the running ones waited for, as for a sync step's thread (only an
    abort ends the wait); when they all returned normally, `ctx.returned_late` is set (the
    step completed late: its rollback runs, DESIGN §2.4).
    """
    try:
        await _all_done(futures)
    except asyncio.CancelledError as exc:
        if isinstance(executor, LocalProcessPool):
            await shielded(_stop(executor, futures, grace))
            raise
        running = await shielded(_started(executor, futures))
        if running:
            what = "its task" if len(futures) == 1 else "its tasks"
            fate = await outlive(running, ctx.name,
                                 f"{what} on {_executor_name(executor)}", str(exc))
            note_fate(exc, fate)
            if fate.returned and fate.error is None:
                ctx.returned_late = True
        raise


async def _started(executor: Executor, futures: list[Future[Any]]) -> list[Future[Any]]:
    """Cancel the tasks that have not started; the others (running, which cannot be stopped,
    or done: their outcome counts too)."""
    processing = getattr(executor, "processing", None)  # falyx's DaskExecutor
    if processing is None:  # a stdlib future cancels only if it has not started
        return [f for f in futures if not f.cancel()]
    started = await processing(futures)
    for future, on_worker in zip(futures, started, strict=True):
        if not on_worker:
            executor.release(future)  # type: ignore[attr-defined]
    return [f for f, on_worker in zip(futures, started, strict=True) if on_worker or f.done()]


def _executor_name(executor: Executor) -> str:
    if isinstance(executor, (ThreadPoolExecutor, StepThreadPool)):
        return "the thread executor"
    if hasattr(executor, "processing"):
        return "Dask"
    return f"executor {type(executor).__name__}"


async def _stop(executor: Executor, futures: list[Future[Any]], grace: float) -> None:
    """Cancel pending tasks; interrupt running and queued ones; after `grace`, kill the
    workers of those still running."""
    running = [f for f in futures if not f.cancel() and not f.done()]
    if not running or not isinstance(executor, LocalProcessPool):
        return
    pids = {f: executor.interrupt(f) for f in running}
    await asyncio.wait([_all_done(running)], timeout=grace)
    for future in running:
        if not future.done():
            executor.kill(future, pids[future])


def _all_done(futures: list[Future[Any]]) -> asyncio.Future[None]:
    """An asyncio future set once every `concurrent.futures` future is done.

    One wake-up of the loop for the whole batch, not one per task: the loop would otherwise
    take the GIL from the pool's own threads at every result.
    """
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()
    if not futures:
        waiter.set_result(None)
    remaining = [len(futures)]
    lock = threading.Lock()

    def one_done(_: Future[Any]) -> None:
        with lock:
            remaining[0] -= 1
            if remaining[0]:
                return
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            loop.call_soon_threadsafe(_resolve, waiter)

    for future in futures:
        future.add_done_callback(one_done)
    return waiter


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _check_grace(name: str, kill_grace: float) -> float:
    if isinstance(kill_grace, bool) or not isinstance(kill_grace, (int, float)) or not (
        kill_grace >= 0
    ):
        raise ValueError(f"step '{name}': kill_grace must be >= 0 seconds, got {kill_grace!r}")
    return float(kill_grace)


class ProcessAction(Action):
    """An `Action` whose callable runs in a worker process (or any executor).

    `executor` is a spec string or a `concurrent.futures.Executor` (default: `--executor`,
    `FALYX_EXECUTOR`, else the shared process pool); `kill_grace` is how long (seconds) a
    cancelled or timed-out task may take to stop before its worker is killed.
    """

    kind = "ProcessAction"
    icon = "⚡"

    def __init__(
        self,
        name: str,
        action: Callable[..., Any],
        *,
        executor: Executor | str | None = None,
        kill_grace: float = KILL_GRACE,
        **options: Any,
    ) -> None:
        super().__init__(name, action, **options)
        check_executor(executor)
        self.executor = executor
        self.kill_grace = _check_grace(name, kill_grace)

    async def _run(self, ctx: ExecutionContext) -> Any:
        executor = await obtain_executor(self.executor)
        future = _submit(self.name, executor, self.fn, ctx.args, ctx.kwargs)
        await _wait(executor, [future], self.kill_grace, ctx)
        return future.result()


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
        kill_grace: float = KILL_GRACE,
        **options: Any,
    ) -> None:
        super().__init__(name, **options)
        check_executor(executor)
        self.actions = [a if isinstance(a, ProcessTask) else ProcessTask(a) for a in actions]
        self.executor = executor
        self.kill_grace = _check_grace(name, kill_grace)

    async def _run(self, ctx: ExecutionContext) -> list[Any]:
        if not self.actions:
            raise EmptyGroupError(f"process pool '{self.name}' has no tasks to run")
        executor = await obtain_executor(self.executor)
        payloads = [  # all checked before any is submitted
            _pickled(f"{self.name}[{i}]", t.task, t.args, t.kwargs)
            for i, t in enumerate(self.actions)] if needs_pickle_check(executor) else []
        if isinstance(executor, LocalProcessPool):
            futures = [executor.submit_payload(p) for p in payloads]
        else:
            futures = [executor.submit(t.task, *t.args, **t.kwargs) for t in self.actions]
        await _wait(executor, futures, self.kill_grace, ctx)
        failures = [(f"{self.name}[{i}]", f.exception()) for i, f in enumerate(futures)
                    if f.exception() is not None]
        if failures:
            results = [f.result() for f in futures if f.exception() is None]
            raise group_error(self.name, len(futures), failures, results)  # type: ignore[arg-type]
        return [f.result() for f in futures]

    def preview(self, options: RunOptions | None = None) -> PreviewNode:
        node = super().preview(options)
        for task in self.actions:
            node.children.append(PreviewNode(f"⚡ {getattr(task.task, '__name__', task.task)}"))
        return node

