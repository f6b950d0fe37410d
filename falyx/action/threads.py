"""Sync step functions in falyx's own threads, never abandoned while falyx goes on.

Python cannot stop a thread. When a sync step (or rollback) is cancelled or times out while
its function runs, falyx logs one WARNING naming the step and waits, shielded, for the
function to return; only then does it retry, roll back or let the cancellation propagate, so
a rollback never overlaps the step it undoes and retries never overlap each other. Only an
abort (`RollbackControl.abort`, the third Ctrl-C) stops the waiting: the thread is then left
running, the records say so (`ThreadFate`), and since falyx's threads are daemon threads the
process can still exit at once. A step whose function returned normally after the cancellation
has completed late: it is rolled back with the steps before it (`BaseAction._execute`); one
that raised left nothing to undo. Process steps on executors that cannot stop a started task
wait the same way (`outlive`). A step that must be stoppable is async, a `ShellAction` or a
`ProcessAction` on the process pool. DESIGN §1 (sync at the edges), §2.4.
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from falyx.action.cancellation import ThreadFate, note_fate
from falyx.action.scopes import ROLLBACK_CONTROL, RollbackControl, expired_deadline
from falyx.context import _CURRENT, ExecutionContext
from falyx.durations import format_seconds

__all__ = ["StepThreadPool", "outlive", "run_in_thread", "step_threads"]

logger = logging.getLogger("falyx")


class StepThreadPool(Executor):
    """An executor of daemon threads: interpreter exit never waits for them.

    The stdlib's `ThreadPoolExecutor` (behind `asyncio.to_thread`) joins its threads at exit,
    so a process would hang on a thread an abort left running. A job goes to an idle worker,
    else to a new one, up to `max_workers` (None: no upper bound, so N sync members of a
    group run at once, as N async members would); past that it waits in the queue (and can
    be cancelled there). A worker ends after `idle_timeout` seconds without a job. The
    `thread`/`thread:N` executor of process steps is one of these (DESIGN §2.14).
    """

    def __init__(self, idle_timeout: float = 60.0, max_workers: int | None = None,
                 prefix: str = "falyx-step") -> None:
        self.idle_timeout = idle_timeout
        self.max_workers = max_workers
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple, dict]] = (
            queue.SimpleQueue())
        self._lock = threading.Lock()
        self._idle = 0  # workers waiting for a job, less the jobs queued (< 0: a backlog)
        self._workers = 0
        self._prefix = prefix
        self._numbers = itertools.count(1)

    @property
    def idle_workers(self) -> int:
        """Workers waiting for a job (less the jobs queued for them)."""
        return self._idle

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._idle > 0 or (self.max_workers is not None
                                  and self._workers >= self.max_workers):
                self._idle -= 1
            else:  # started before the job is queued: if it cannot start, nothing is queued
                threading.Thread(target=self._work, name=f"{self._prefix}-{next(self._numbers)}",
                                 daemon=True).start()
                self._workers += 1
            self._jobs.put((future, fn, args, kwargs))
        return future

    def _work(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=self.idle_timeout)
            except queue.Empty:
                with self._lock:  # jobs are queued under the lock: empty means none is coming
                    if self._jobs.empty():
                        self._idle -= 1
                        self._workers -= 1
                        return
                continue
            _run_job(*job)
            del job  # an idle worker holds on to nothing
            with self._lock:
                self._idle += 1


def _run_job(future: Future[Any], fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    if future.set_running_or_notify_cancel():  # False: cancelled before it started
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:  # handed to the awaiting task, as the stdlib does
            future.set_exception(exc)
        else:
            future.set_result(result)


_pool: StepThreadPool | None = None


def step_threads() -> StepThreadPool:
    """The process's pool of step threads (created on first use, again after a fork)."""
    global _pool
    if _pool is None:
        _pool = StepThreadPool()
    return _pool


def _forget_pool() -> None:  # a forked child has none of its parent's threads
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


async def run_in_thread(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], name: str,
    step: ExecutionContext | None = None,
) -> Any:
    """`fn(*args, **kwargs)` in a step thread, with this task's context variables.

    If the caller is cancelled (a timeout, a signal) while `fn` runs, this waits for it to
    return before re-raising the cancellation, noting the thread's fate on it; a cancellation
    that comes before `fn` started means it never runs. `name` is the step in the log lines;
    `step`, the context of the step whose body `fn` is: when `fn` returned normally after the
    cancellation, `step.returned_late` is set (its effects are applied: DESIGN §2.4).
    """
    import asyncio

    work = step_threads().submit(contextvars.copy_context().run, fn, *args, **kwargs)
    try:
        return await asyncio.wrap_future(work)
    except asyncio.CancelledError as exc:
        if work.cancel():  # it had not started: it never will
            note_fate(exc, ThreadFate(name, started=False))
        else:  # it cannot be stopped
            fate = await outlive([work], name, cause=str(exc))
            note_fate(exc, fate)
            if step is not None and fate.returned and fate.error is None:
                step.returned_late = True
        raise


async def outlive(
    work: list[Future[Any]], name: str, what: str = "its thread", cause: str = ""
) -> ThreadFate:
    """Wait for started calls whose caller was cancelled (a thread's, or an executor's tasks
    that cannot be stopped); how they ended: returned, and the first error, if any.

    Logs one WARNING naming the step (`what` says what cannot be stopped) unless they are
    done (`cause`: the cancellation's message, when no signal or timeout explains it); only
    an abort (`RollbackControl.abort`) ends the wait early: `returned` is then
    False.
    """
    control = ROLLBACK_CONTROL.get()
    if not all(f.done() for f in work):
        if control is not None and control.aborted:  # nothing waits after an abort
            return ThreadFate(name)
        logger.warning("[%s] %s", name, _waiting_notice(what, cause),
                       extra={"action": name, "event": "thread_wait"})
        if not await _wait(work, control, name):
            logger.warning("[%s] no longer waiting (aborted): %s is left running until it "
                           "returns or the process exits", name, what,
                           extra={"action": name, "event": "thread_abandoned"})
            return ThreadFate(name)
    error = next((e for f in work if not f.cancelled() and (e := f.exception()) is not None),
                 None)
    if error is not None:
        logger.info("[%s] %s returned raising %s: %s", name, what, type(error).__name__,
                    error, extra={"action": name, "event": "thread_returned"})
    return ThreadFate(name, returned=True, error=error)


async def _wait(work: list[Future[Any]], control: RollbackControl | None, name: str) -> bool:
    """Wait for `work` through any cancellation but an abort; False when aborted first."""
    import asyncio

    waiting = {asyncio.wrap_future(f) for f in work}
    task = asyncio.current_task()
    if control is not None and task is not None:
        control.waits[task] = name
    try:
        while not all(w.done() for w in waiting):
            if control is not None and control.aborted:
                for w in waiting:
                    w.cancel()  # the threads go on; nothing waits for their outcome now
                return False
            try:
                await asyncio.wait(waiting)
            except asyncio.CancelledError:
                continue  # a thread cannot be cancelled: only an abort ends the wait
        for w in waiting:
            if not w.cancelled():
                w.exception()  # retrieved here; the caller reports the errors
        return True
    finally:
        if control is not None and task is not None:
            control.waits.pop(task, None)


def _waiting_notice(what: str = "its thread", message: str = "") -> str:
    """`timed out after 1.5s; its thread cannot be stopped, waiting for it to return before
    retrying` (or the signal, or the enclosing step's timeout, that cancelled it; and rolling
    back, inside a chain or group, or going on). `what` is what cannot be stopped."""
    control = ROLLBACK_CONTROL.get()
    deadline = expired_deadline()
    current = _CURRENT.get()
    then = "rolling back" if current is not None and (
        current.shared is not None or getattr(current.action, "rollback", None) is not None
    ) else "going on"
    if control is not None and control.reason:
        cause = control.reason[:1].lower() + control.reason[1:]
    elif deadline is None:
        cause = message if message.startswith("cancelled") else "cancelled"
    elif deadline.owner is current:
        cause = f"timed out after {format_seconds(deadline.seconds)}"
        then = "retrying" if deadline.retry_follows else then
    else:
        cause = f"cancelled: {deadline.describe()}"
        then = "rolling back and retrying" if deadline.retry_follows else then
    end = "return" if what == "its thread" else "end"
    return f"{cause}; {what} cannot be stopped, waiting for it to {end} before {then}"
