"""falyx.action.threads: the step thread pool, and waiting for a cancelled sync call's thread.

Blocked functions wait on `threading.Event`s the test sets; the test waits on events, on
log records and on futures, never on a sleep.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Iterator

import pytest

from falyx.action import threads
from falyx.action.cancellation import ThreadFate, fate_of
from falyx.action.scopes import ROLLBACK_CONTROL, RollbackControl
from falyx.action.threads import StepThreadPool, run_in_thread
from tests.helpers_threads import WAIT, Blocking, Notices, wait_until, watching


@pytest.fixture
def notices() -> Iterator[Notices]:
    with watching() as handler:
        yield handler

# -- the pool -----------------------------------------------------------------------------
def test_step_threads_are_daemon_threads_interpreter_exit_does_not_wait_for() -> None:
    worker = StepThreadPool().submit(threading.current_thread).result(WAIT)
    assert worker.daemon and worker.name.startswith("falyx-step-")
    assert worker is not threading.current_thread()


def test_an_idle_worker_takes_the_next_job() -> None:
    pool = StepThreadPool()
    first = pool.submit(threading.get_ident).result(WAIT)
    wait_until(lambda: pool.idle_workers == 1)
    assert pool.submit(threading.get_ident).result(WAIT) == first
    wait_until(lambda: pool.idle_workers == 1)


def test_every_concurrent_job_gets_a_thread_beyond_the_stdlib_default_cap() -> None:
    jobs = 40  # asyncio.to_thread's pool would run min(32, cpus + 4) at once: a deadlock here
    barrier = threading.Barrier(jobs, timeout=WAIT)
    pool = StepThreadPool()
    futures = [pool.submit(barrier.wait) for _ in range(jobs)]
    assert sorted(f.result(WAIT * 2) for f in futures) == list(range(jobs))


def test_an_idle_worker_ends_after_its_idle_timeout_and_a_new_one_takes_over() -> None:
    pool = StepThreadPool(idle_timeout=0.01)
    worker = pool.submit(threading.current_thread).result(WAIT)
    worker.join(WAIT)
    assert not worker.is_alive() and pool.idle_workers == 0
    assert pool.submit(lambda: 7).result(WAIT) == 7


def test_a_job_cancelled_before_a_worker_took_it_never_runs(monkeypatch) -> None:
    held: list[threading.Thread] = []
    pool = StepThreadPool(idle_timeout=0.01)
    ran: list[str] = []
    with monkeypatch.context() as patch:
        patch.setattr(threading.Thread, "start", lambda thread: held.append(thread))
        future = pool.submit(ran.append, "ran")
    assert future.cancel()
    for worker in held:
        worker.start()
        worker.join(WAIT)  # took the cancelled job, found nothing to do, idled out
    assert ran == [] and future.cancelled()


def test_a_job_hands_back_its_result_or_its_exception() -> None:
    pool = StepThreadPool()
    assert pool.submit(divmod, 7, 2).result(WAIT) == (3, 1)
    assert isinstance(pool.submit(int, "x").exception(WAIT), ValueError)
    assert isinstance(pool.submit(exit, 3).exception(WAIT), SystemExit)


# -- a call in a thread -------------------------------------------------------------------
async def test_a_call_runs_in_a_step_thread_with_the_callers_context_variables() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    var.set("the caller's")
    worker, seen = await run_in_thread(lambda: (threading.current_thread(), var.get()), (), {},
                                       "probe")
    assert worker.name.startswith("falyx-step-") and seen == "the caller's"


async def test_a_cancelled_call_waits_for_its_thread_before_the_cancellation_goes_on(
    notices: Notices
) -> None:
    body = Blocking()
    call = asyncio.ensure_future(run_in_thread(body, (), {}, "migrate"))
    await body.wait_started()
    call.cancel()
    await notices.wait("thread_wait")
    call.cancel()  # a second cancellation does not end the wait either
    for _ in range(50):
        await asyncio.sleep(0)
    assert not call.done() and not body.ended.is_set()

    body.gate.set()
    with pytest.raises(asyncio.CancelledError) as info:
        await call
    assert body.ended.is_set()
    assert fate_of(info.value) == ThreadFate("migrate", started=True, returned=True)
    assert notices.messages("thread_wait") == [
        "[migrate] cancelled; its thread cannot be stopped, waiting for it to return before "
        "going on"]


async def test_an_abort_stops_the_wait_and_leaves_the_thread_running(notices: Notices) -> None:
    body = Blocking()
    control = RollbackControl()
    token = ROLLBACK_CONTROL.set(control)
    try:
        call = asyncio.ensure_future(run_in_thread(body, (), {}, "migrate"))
    finally:
        ROLLBACK_CONTROL.reset(token)
    await body.wait_started()
    call.cancel()
    await notices.wait("thread_wait")
    assert list(control.waits.values()) == ["migrate"]

    control.abort()
    with pytest.raises(asyncio.CancelledError) as info:
        await call
    assert fate_of(info.value) == ThreadFate("migrate", started=True, returned=False)
    assert not body.ended.is_set() and control.waits == {}
    assert notices.messages("thread_abandoned") == [
        "[migrate] no longer waiting (aborted): its thread is left running until it returns "
        "or the process exits"]
    body.gate.set()
    assert await asyncio.to_thread(body.ended.wait, WAIT)


async def test_after_an_abort_a_cancelled_call_does_not_wait_at_all(notices: Notices) -> None:
    body = Blocking()
    control = RollbackControl()
    control.abort()
    token = ROLLBACK_CONTROL.set(control)
    try:
        call = asyncio.ensure_future(run_in_thread(body, (), {}, "undo"))
    finally:
        ROLLBACK_CONTROL.reset(token)
    await body.wait_started()
    call.cancel()
    with pytest.raises(asyncio.CancelledError) as info:
        await call
    assert fate_of(info.value) == ThreadFate("undo", started=True, returned=False)
    assert notices.messages("thread_wait") == [] and not body.ended.is_set()
    body.gate.set()
    assert await asyncio.to_thread(body.ended.wait, WAIT)


async def test_what_the_thread_raised_after_the_cancellation_is_kept_and_logged(
    notices: Notices
) -> None:
    error = ValueError("late")
    body = Blocking(error)
    call = asyncio.ensure_future(run_in_thread(body, (), {}, "migrate"))
    await body.wait_started()
    call.cancel()
    await notices.wait("thread_wait")
    body.gate.set()
    with pytest.raises(asyncio.CancelledError) as info:
        await call
    assert fate_of(info.value) == ThreadFate("migrate", started=True, returned=True, error=error)
    assert notices.messages("thread_returned") == [
        "[migrate] its thread returned raising ValueError: late"]


async def test_a_call_cancelled_before_its_thread_started_never_runs(monkeypatch) -> None:
    monkeypatch.setattr(threads, "_pool", StepThreadPool(idle_timeout=0.01))
    held: list[threading.Thread] = []
    body = Blocking()
    with monkeypatch.context() as patch:
        patch.setattr(threading.Thread, "start", lambda thread: held.append(thread))
        call = asyncio.ensure_future(run_in_thread(body, (), {}, "migrate"))
        await asyncio.sleep(0)  # submitted: its worker is held back
    call.cancel()
    with pytest.raises(asyncio.CancelledError) as info:
        await call
    assert fate_of(info.value) == ThreadFate("migrate", started=False)
    for worker in held:
        worker.start()
        worker.join(WAIT)  # took the cancelled job, found nothing to do, idled out
    assert body.calls == 0
