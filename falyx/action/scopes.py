"""Small async building blocks for the lifecycle: calls, timeouts, shields, task scopes.

asyncio is imported inside the functions that need it: by the time any of them runs, a loop
is running and asyncio is loaded, while `import falyx` (and `--help`) does not load it.
"""

from __future__ import annotations

import contextvars
import inspect
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncio

from falyx.errors import StepTimeoutError

T = TypeVar("T")


def is_async_callable(fn: Any) -> bool:
    """True when calling `fn` returns a coroutine (functions, partials, async __call__)."""
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - callable objects with async __call__
    )


async def call(fn: Callable[..., Any], args: Iterable[Any], kwargs: Mapping[str, Any]) -> Any:
    """Await an async callable; run a sync one in a worker thread so the loop stays live."""
    if is_async_callable(fn):
        return await fn(*args, **kwargs)
    import asyncio

    result = await asyncio.to_thread(fn, *args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


if sys.version_info >= (3, 11):

    async def run_with_timeout(coro: Coroutine[Any, Any, T], seconds: float, name: str) -> T:
        """Run `coro` for at most `seconds`, raising `StepTimeoutError` naming the step."""
        import asyncio

        scope = asyncio.timeout(seconds)
        try:
            async with scope:
                return await coro
        except TimeoutError as exc:
            if scope.expired():
                raise StepTimeoutError(f"step '{name}' timed out after {seconds}s") from exc
            raise

else:  # pragma: no cover - exercised by the 3.10 run of `make test-all`

    async def run_with_timeout(coro: Coroutine[Any, Any, T], seconds: float, name: str) -> T:
        """Run `coro` for at most `seconds`, raising `StepTimeoutError` naming the step."""
        import asyncio

        try:
            return await asyncio.wait_for(coro, seconds)
        except asyncio.TimeoutError as exc:
            raise StepTimeoutError(f"step '{name}' timed out after {seconds}s") from exc


async def shielded(awaitable: Awaitable[T]) -> T:
    """Run `awaitable` to completion even if the caller is cancelled meanwhile.

    A cancellation that arrives while it runs is re-raised once it has finished.
    """
    import asyncio

    task = asyncio.ensure_future(awaitable)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(task)
            break
        except asyncio.CancelledError:
            if task.done():
                raise
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return result


class RollbackControl:
    """Lets a frontend abort the rollbacks in progress (the third Ctrl-C, DESIGN §2.4).

    Set with `ROLLBACK_CONTROL.set(control)` before starting the run's tasks; rollback walks
    started under it register here, and `abort()` cancels them: the steps not yet undone are
    recorded CANCELLED. A walk that starts after `abort()` undoes nothing.
    """

    def __init__(self) -> None:
        self.aborted = False
        self.walks: set[asyncio.Future[Any]] = set()

    def abort(self) -> None:
        self.aborted = True
        for walk in list(self.walks):
            walk.cancel()


ROLLBACK_CONTROL: contextvars.ContextVar[RollbackControl | None] = contextvars.ContextVar(
    "falyx_rollback_control", default=None)


def start_tasks(coros: Iterable[Awaitable[T]]) -> list[asyncio.Future[T]]:
    """Schedule awaitables as tasks (to be awaited with `wait_tasks`)."""
    import asyncio

    return [asyncio.ensure_future(c) for c in coros]


async def wait_tasks(tasks: list[asyncio.Future[Any]], fail_fast: bool) -> None:
    """Wait for tasks as one scope: when this returns or raises, every task is done.

    With `fail_fast`, the first failure cancels the rest. If the caller is cancelled, every
    task is cancelled and awaited before the cancellation propagates: nothing is left behind.
    """
    import asyncio

    when = asyncio.FIRST_EXCEPTION if fail_fast else asyncio.ALL_COMPLETED
    try:
        _, pending = await asyncio.wait(tasks, return_when=when)
    except BaseException:
        await shielded(_cancel_all(tasks))
        raise
    if pending:
        await shielded(_cancel_all(pending))


async def _cancel_all(tasks: Iterable[asyncio.Future[Any]]) -> None:
    import asyncio

    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks)
