"""Small async building blocks for the lifecycle: calls, timeouts, shields, task scopes.

asyncio is imported inside the functions that need it: by the time any of them runs, a loop
is running and asyncio is loaded, while `import falyx` (and `--help`) does not load it.
"""

from __future__ import annotations

import contextvars
import inspect
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncio

from falyx.action.parameters import is_async_callable
from falyx.durations import format_seconds
from falyx.errors import StepTimeoutError

T = TypeVar("T")


async def call(
    fn: Callable[..., Any], args: Iterable[Any], kwargs: Mapping[str, Any], name: str = ""
) -> Any:
    """Await an async callable; run a sync one in a worker thread so the loop stays live
    (see `call_in_thread`; `name` is the step named in its log lines)."""
    if is_async_callable(fn):
        return await fn(*args, **kwargs)
    return await call_in_thread(fn, args, kwargs, name)


async def call_in_thread(
    fn: Callable[..., Any], args: Iterable[Any], kwargs: Mapping[str, Any], name: str = "",
    step: Any = None,
) -> Any:
    """Run sync `fn` in one of falyx's step threads and return its result (awaited, if it
    returned an awaitable). A thread cannot be stopped: when the caller is cancelled or times
    out, this waits for `fn` to return before the cancellation propagates, unless the run's
    `RollbackControl` is aborted (DESIGN §2.4; `falyx.action.threads`). `step` is the
    `ExecutionContext` of the step whose body `fn` is: its `returned_late` is set when `fn`
    returned normally after the cancellation."""
    from falyx.action.threads import run_in_thread  # concurrent.futures: a run-time import

    result = await run_in_thread(fn, tuple(args), dict(kwargs),
                                 name or getattr(fn, "__name__", repr(fn)), step)
    if inspect.isawaitable(result):
        result = await result
    return result


# -- timeouts ----------------------------------------------------------------------------------
@dataclass(slots=True, eq=False)
class Deadline:
    """One attempt's timeout in force: whose (`owner`, its context), how long, and whether a
    retry follows when it expires. `expired()` says whether it has fired."""

    owner: Any
    name: str
    seconds: float
    retry_follows: bool = False
    expired: Callable[[], bool] = bool  # replaced by the running timeout's own test

    def describe(self) -> str:
        return f"'{self.name}' timed out after {format_seconds(self.seconds)}"


#: The timeouts in force around the running code, innermost last.
DEADLINES: contextvars.ContextVar[tuple[Deadline, ...]] = contextvars.ContextVar(
    "falyx_deadlines", default=())


def expired_deadline() -> Deadline | None:
    """The innermost timeout in force that has fired, if any."""
    for deadline in reversed(DEADLINES.get()):
        if deadline.expired():
            return deadline
    return None


def _timeout_error(deadline: Deadline) -> StepTimeoutError:
    """The error naming the step whose own timeout fired (`.step`: its name)."""
    error = StepTimeoutError(
        f"step '{deadline.name}' timed out after {format_seconds(deadline.seconds)}")
    error.step = deadline.name  # type: ignore[attr-defined]
    return error


if sys.version_info >= (3, 11):

    async def run_with_timeout(coro: Coroutine[Any, Any, T], deadline: Deadline) -> T:
        """Run `coro` for at most `deadline.seconds`, raising `StepTimeoutError` naming the
        step. The deadline is in `DEADLINES` meanwhile (for the code it cancels)."""
        import asyncio

        scope = asyncio.timeout(deadline.seconds)
        deadline.expired = scope.expired
        token = DEADLINES.set((*DEADLINES.get(), deadline))
        try:
            async with scope:
                return await coro
        except TimeoutError as exc:
            if scope.expired():
                raise _timeout_error(deadline) from exc
            raise
        finally:
            DEADLINES.reset(token)

else:  # pragma: no cover - exercised by the 3.10 run of `make test-all`

    async def run_with_timeout(coro: Coroutine[Any, Any, T], deadline: Deadline) -> T:
        """Run `coro` for at most `deadline.seconds`, raising `StepTimeoutError` naming the
        step. The deadline is in `DEADLINES` meanwhile (for the code it cancels).

        3.10 has no `asyncio.timeout`, and `wait_for` stops waiting for the body when it is
        cancelled during the body's cancellation: the body runs as a task, and this waits for
        it to end whatever happens (a cancelled body ends when its thread returns, or at once
        on an abort).
        """
        import asyncio

        fired = False
        deadline.expired = lambda: fired
        token = DEADLINES.set((*DEADLINES.get(), deadline))
        try:
            body = asyncio.ensure_future(coro)  # the task copies the context: it sees the deadline
        finally:
            DEADLINES.reset(token)

        def expire() -> None:
            nonlocal fired
            fired = True
            body.cancel()

        timer = asyncio.get_running_loop().call_later(deadline.seconds, expire)
        cancelled = False
        try:
            while not body.done():
                try:
                    await asyncio.wait({body})
                except asyncio.CancelledError:
                    cancelled = True
                    body.cancel()
        finally:
            timer.cancel()
        if body.cancelled() and fired and not cancelled:
            raise _timeout_error(deadline)
        if cancelled and not body.cancelled():
            body.exception()  # retrieved: the body finished anyway, and this is cancelled
            raise asyncio.CancelledError
        return body.result()  # its value, its error, or its CancelledError



# -- what a frontend's signals decided ---------------------------------------------------------
class RollbackControl:
    """What the signals of one invocation decided for its run (DESIGN §2.4).

    Set with `ROLLBACK_CONTROL.set(control)` before starting the run's tasks. `reason` says
    why the run was cancelled (`Interrupted (SIGINT)`), for its records. Rollback walks and
    waits for a cancelled step's thread register here; `abort()` (the third Ctrl-C) cancels
    them: the walk records the steps not yet undone CANCELLED, a wait stops and leaves the
    thread running. A walk or wait that starts after `abort()` does nothing.
    """

    def __init__(self) -> None:
        self.aborted = False
        self.reason: str | None = None
        self.walks: set[asyncio.Future[Any]] = set()
        #: tasks waiting for a cancelled step's thread to return, and that step's name
        self.waits: dict[asyncio.Future[Any], str] = {}

    def abort(self) -> None:
        self.aborted = True
        for task in [*self.walks, *self.waits]:
            task.cancel()


ROLLBACK_CONTROL: contextvars.ContextVar[RollbackControl | None] = contextvars.ContextVar(
    "falyx_rollback_control", default=None)

# -- shields and task scopes ------------------------------------------------------------------
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


def start_tasks(coros: Iterable[Awaitable[T]]) -> list[asyncio.Future[T]]:
    """Schedule awaitables as tasks (to be awaited with `wait_tasks`)."""
    import asyncio

    return [asyncio.ensure_future(c) for c in coros]


async def wait_tasks(
    tasks: list[asyncio.Future[Any]], fail_fast: bool, names: Sequence[str] = ()
) -> None:
    """Wait for tasks as one scope: when this returns or raises, every task is done.

    With `fail_fast`, the first failure cancels the rest, with the reason their records show
    (`cancelled: member 'build' failed (fail_fast)`; `names` are the tasks' members). If the
    caller is cancelled, every task is cancelled and awaited before the cancellation
    propagates: nothing is left behind.
    """
    import asyncio

    when = asyncio.FIRST_EXCEPTION if fail_fast else asyncio.ALL_COMPLETED
    try:
        done, pending = await asyncio.wait(tasks, return_when=when)
    except BaseException:
        await shielded(_cancel_all(tasks))
        raise
    if pending:
        failed = [name for name, task in zip(names, tasks, strict=False) if task in done
                  and not task.cancelled() and task.exception() is not None]
        reason = (f"cancelled: member {_quoted(failed)} failed (fail_fast)" if failed
                  else "cancelled: a member failed (fail_fast)")
        await shielded(_cancel_all(pending, reason))


def _quoted(names: list[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


async def _cancel_all(tasks: Iterable[asyncio.Future[Any]], reason: str | None = None) -> None:
    import asyncio

    tasks = list(tasks)
    for task in tasks:
        task.cancel(reason)
    if tasks:
        await asyncio.wait(tasks)
