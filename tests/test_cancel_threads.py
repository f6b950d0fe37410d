"""The lifecycle with sync steps whose thread outlives their timeout or cancellation.

A step's thread is never abandoned while falyx goes on: the rollback starts only after the
thread returned, retries never overlap, and only an abort stops the waiting (DESIGN §2.4).
Blocked functions wait on events the test sets (`tests.helpers_threads`); the retry sleep is
injected; the hypothesis test runs on a loop whose clock the steps move themselves.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from falyx import Action, RetryPolicy, chain
from falyx.action import threads
from falyx.action.scopes import ROLLBACK_CONTROL, RollbackControl
from falyx.errors import StepTimeoutError
from tests.helpers_engine import isolated_run
from tests.helpers_threads import WAIT, Blocking, Notices, watching


@pytest.fixture
def notices() -> Iterator[Notices]:
    with watching() as handler:
        yield handler


def under(control: RollbackControl, coro: Any) -> asyncio.Future[Any]:
    """Start `coro` as a task of a run whose signals decide through `control`."""
    token = ROLLBACK_CONTROL.set(control)
    try:
        return asyncio.ensure_future(coro)
    finally:
        ROLLBACK_CONTROL.reset(token)


def release_chain(events: list[str], migrate: Any, **migrate_options: Any) -> Any:
    return chain(Action("create", lambda: events.append("created"),
                        rollback=lambda: events.append("dropped")),
                 Action("migrate", migrate, **migrate_options), name="release")


class Recorded(Blocking):
    """A blocked step that also notes when it started and returned."""

    def __init__(self, events: list[str]) -> None:
        super().__init__()
        self.events = events

    def __call__(self, *args: Any, **kwargs: Any) -> str:
        self.events.append("migrate started")
        try:
            return super().__call__(*args, **kwargs)
        finally:
            self.events.append("migrate returned")


# -- the rollback waits for the thread ----------------------------------------------------
async def test_a_timed_out_sync_step_is_rolled_back_only_after_its_thread_returned(
    registry, notices: Notices
) -> None:
    events: list[str] = []
    migrate = Recorded(events)
    run = asyncio.ensure_future(release_chain(events, migrate, timeout=0.01)())
    await notices.wait("thread_wait")
    assert events == ["created", "migrate started"]  # no rollback while its thread runs

    migrate.gate.set()
    with pytest.raises(StepTimeoutError):
        await run
    assert events == ["created", "migrate started", "migrate returned", "dropped"]
    assert notices.messages("thread_wait") == [
        "[migrate] timed out after 0.01s; its thread cannot be stopped, waiting for it to "
        "return before rolling back"]


async def test_a_cancelled_sync_step_is_rolled_back_only_after_its_thread_returned(
    registry, notices: Notices
) -> None:
    events: list[str] = []
    migrate = Recorded(events)
    run = asyncio.ensure_future(release_chain(events, migrate)())
    await migrate.wait_started()
    run.cancel()
    await notices.wait("thread_wait")
    assert events == ["created", "migrate started"]

    migrate.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert events == ["created", "migrate started", "migrate returned", "dropped"]
    statuses = [(r.kind, r.name, r.status) for r in registry.records()]
    assert statuses == [("Action", "create", "OK"), ("Action", "migrate", "CANCELLED"),
                        ("Rollback", "create", "OK"), ("ChainedAction", "release", "CANCELLED")]


# -- what the warning says ----------------------------------------------------------------
@pytest.mark.parametrize(("build", "expected"), [
    # timeouts long enough for the blocked body's thread to have started on a loaded machine;
    # the chains' first step is a literal: nothing runs in a thread before the body
    (lambda body: Action("migrate", body, timeout=0.5, retry=RetryPolicy(1, delay=0)),
     "[migrate] timed out after 0.5s; its thread cannot be stopped, waiting for it to "
     "return before retrying"),
    (lambda body: Action("migrate", body, timeout=0.5),
     "[migrate] timed out after 0.5s; its thread cannot be stopped, waiting for it to "
     "return before going on"),
    (lambda body: chain(1, Action("migrate", body), name="release", timeout=0.5),
     "[migrate] cancelled: 'release' timed out after 0.5s; its thread cannot be stopped, "
     "waiting for it to return before rolling back"),
    (lambda body: chain(1, Action("migrate", body), name="release", timeout=0.5,
                        retry=RetryPolicy(1, delay=0)),
     "[migrate] cancelled: 'release' timed out after 0.5s; its thread cannot be stopped, "
     "waiting for it to return before rolling back and retrying"),
], ids=["own-timeout-retried", "own-timeout", "chain-timeout", "chain-timeout-retried"])
async def test_the_wait_warning_names_the_step_its_timeout_and_what_follows(
    registry, notices: Notices, build: Any, expected: str
) -> None:
    body = Blocking()
    run = asyncio.ensure_future(build(body)())
    await notices.wait("thread_wait")
    body.gate.set()
    await asyncio.gather(run, return_exceptions=True)
    assert notices.messages("thread_wait")[0] == expected


async def test_the_wait_warning_names_the_signal_that_interrupted_the_run(
    registry, notices: Notices
) -> None:
    events: list[str] = []
    migrate = Recorded(events)
    control = RollbackControl()
    run = under(control, release_chain(events, migrate)())
    await migrate.wait_started()
    control.reason = "Interrupted (SIGINT)"  # as the signal scope does before cancelling
    run.cancel()
    await notices.wait("thread_wait")
    migrate.gate.set()
    await asyncio.gather(run, return_exceptions=True)
    assert notices.messages("thread_wait") == [
        "[migrate] interrupted (SIGINT); its thread cannot be stopped, waiting for it to "
        "return before rolling back"]


# -- what the records say -----------------------------------------------------------------
async def test_records_of_a_run_interrupted_by_a_signal_say_so(registry) -> None:
    control = RollbackControl()
    started = asyncio.Event()

    async def wait() -> None:
        started.set()
        await asyncio.Event().wait()

    run = under(control, chain(lambda: 1, wait, name="release")())
    await started.wait()
    control.reason = "Terminated (SIGTERM)"
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    cancelled = {r.name: str(r.exception) for r in registry.records(status="CANCELLED")}
    assert cancelled == {"wait": "Terminated (SIGTERM)", "release": "Terminated (SIGTERM)"}


async def test_records_of_steps_cut_short_by_an_enclosing_timeout_name_it(registry) -> None:
    async def wait() -> None:
        await asyncio.Event().wait()

    with pytest.raises(StepTimeoutError):
        await chain(lambda: 1, wait, name="release", timeout=0.01)()
    inner = registry.records(name="wait")[0]
    assert (inner.status, str(inner.exception)) == (
        "CANCELLED", "'release' timed out after 0.01s")
    assert registry.records(name="release")[0].status == "ERROR"


async def test_a_cancellation_from_outside_keeps_its_own_message(registry) -> None:
    async def wait() -> None:
        await asyncio.Event().wait()

    run = asyncio.ensure_future(Action("wait", wait)())
    await asyncio.sleep(0)
    run.cancel("stopped by the caller")
    with pytest.raises(asyncio.CancelledError):
        await run
    assert str(registry.latest().exception) == "stopped by the caller"


# -- an abort -----------------------------------------------------------------------------
async def test_an_abort_while_waiting_records_the_step_abandoned_and_undoes_nothing(
    registry, notices: Notices
) -> None:
    events: list[str] = []
    migrate = Recorded(events)
    control = RollbackControl()
    run = under(control, release_chain(events, migrate)())
    await migrate.wait_started()
    control.reason = "Interrupted (SIGINT)"
    run.cancel()
    await notices.wait("thread_wait")
    control.abort()
    with pytest.raises(asyncio.CancelledError):
        await run

    assert events == ["created", "migrate started"]  # not undone, and still running
    # the chain's own record: on Python 3.10 a task re-raises a new CancelledError, without
    # the attributes of the one the chain raised (the CLI reads the record too)
    (release,) = registry.records(name="release")
    assert release.exception.rollback_aborted is True
    step = registry.records(name="migrate", status="CANCELLED")[0]
    assert str(step.exception) == ("Interrupted (SIGINT); step 'migrate' abandoned while "
                                   "running in its thread")
    undo = [r for r in registry.records() if r.kind == "Rollback"]
    assert [(r.name, r.status, r.attempts, str(r.exception)) for r in undo] == [
        ("create", "CANCELLED", 0, "rollback aborted before it started")]
    migrate.gate.set()
    assert await asyncio.to_thread(migrate.ended.wait, WAIT)


@pytest.fixture
def jobs(monkeypatch: pytest.MonkeyPatch) -> list[concurrent.futures.Future[Any]]:
    """The futures of every job falyx's step threads take, in order (a pool of the test's)."""
    pool = threads.StepThreadPool()
    taken: list[concurrent.futures.Future[Any]] = []
    submit = pool.submit
    monkeypatch.setattr(pool, "submit", lambda *a, **k: taken.append(submit(*a, **k)) or taken[-1])
    monkeypatch.setattr(threads, "_pool", pool)
    return taken


def abort_once_returned(loop: asyncio.AbstractEventLoop, control: RollbackControl,
                        jobs: list[concurrent.futures.Future[Any]]) -> None:
    """Called in a job's thread: the loop aborts the rollback once that job has returned,
    before it hears that the job did."""
    def abort() -> None:
        concurrent.futures.wait([jobs[-1]], WAIT)
        control.abort()

    loop.call_soon_threadsafe(abort)


async def test_a_sync_rollback_that_returned_before_the_abort_was_seen_is_recorded_done(
    registry, jobs: list[concurrent.futures.Future[Any]]
) -> None:
    control = RollbackControl()
    loop = asyncio.get_running_loop()
    undone: list[str] = []

    def undo_b() -> None:
        abort_once_returned(loop, control, jobs)
        undone.append("b")

    async def deploy() -> None:
        raise RuntimeError("deploy failed")

    release = chain(Action("a", lambda: 1, rollback=lambda: undone.append("a")),
                    Action("b", lambda: 2, rollback=undo_b), deploy, name="release")
    with pytest.raises(RuntimeError) as info:
        await under(control, release())
    assert undone == ["b"]
    undo = [(r.name, r.status) for r in registry.records() if r.kind == "Rollback"]
    assert undo == [("b", "OK"), ("a", "CANCELLED")]
    assert info.value.rollback_aborted is True


async def test_a_rollback_that_raised_before_the_abort_was_seen_is_a_rollback_error(
    registry, jobs: list[concurrent.futures.Future[Any]]
) -> None:
    control = RollbackControl()
    loop = asyncio.get_running_loop()

    def undo() -> None:
        abort_once_returned(loop, control, jobs)
        raise OSError("disk full")

    async def deploy() -> None:
        raise RuntimeError("deploy failed")

    with pytest.raises(RuntimeError) as info:
        await under(control, chain(Action("a", lambda: 1, rollback=undo), deploy)())
    assert [type(e) for e in info.value.rollback_errors] == [OSError]
    assert not getattr(info.value, "rollback_aborted", False)  # nothing was left undone


# -- retries never overlap: hypothesis on a loop whose clock the steps move ----------------
class VirtualClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock moves only when `advance` moves it (from any thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.call_soon_threadsafe(lambda: None)  # wake the loop to look at its timers


TIMEOUT = 1.25  # durations are multiples of 0.5: never equal to it
attempt_plans = st.lists(st.tuples(st.sampled_from([0.5, 1.0, 1.5, 2.0]), st.booleans()),
                         min_size=1, max_size=4)


@settings(max_examples=40, deadline=None)
@given(plans=attempt_plans, max_retries=st.integers(0, 3))
def test_retries_of_a_sync_step_never_overlap_and_the_rollback_comes_last(
    plans: list[tuple[float, bool]], max_retries: int
) -> None:
    """Attempt k runs `plans[k]` = (duration, raises): it moves the clock by the duration;
    past the timeout it is still running when the timeout fires and returns only once falyx
    waits for it. Whatever the plans, one attempt runs at a time, each starts after the
    previous one returned, and the rollback of the chain's first step comes after them all."""
    loop = VirtualClockLoop()
    events: list[str] = []
    running = [0]
    gates = [threading.Event() for _ in range(max_retries + 1)]

    def migrate() -> str:
        number = sum(e.startswith("start") for e in events)
        duration, raises = plans[min(number, len(plans) - 1)]
        running[0] += 1
        events.append(f"start {number} with {running[0]} running")
        loop.advance(duration)
        if duration > TIMEOUT:
            assert gates[number].wait(WAIT), "falyx never waited for the overrun"
        running[0] -= 1
        events.append(f"return {number}")
        if raises:
            raise ValueError(f"attempt {number} failed")
        return f"attempt {number}"

    class Gates(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if getattr(record, "event", "") == "thread_wait":
                gates[sum(e.startswith("start") for e in events) - 1].set()

    release = chain(Action("create", lambda: None, rollback=lambda: events.append("dropped")),
                    Action("migrate", migrate, timeout=TIMEOUT,
                           retry=RetryPolicy(max_retries, delay=1.0)), name="release")

    async def run() -> Any:
        try:
            return await release()
        except Exception as exc:
            return exc
    with watching() as notices, isolated_run() as (_, sleep):
        logging.getLogger("falyx").addHandler(gate_handler := Gates())
        try:
            outcome = loop.run_until_complete(run())
        finally:
            logging.getLogger("falyx").removeHandler(gate_handler)
            loop.close()

    expected: list[str] = []
    for number in range(max_retries + 1):
        duration, raises = plans[min(number, len(plans) - 1)]
        expected += [f"start {number} with 1 running", f"return {number}"]
        if duration < TIMEOUT and not raises:
            assert outcome == f"attempt {number}"
            break
    else:
        expected.append("dropped")
        last_duration = plans[min(max_retries, len(plans) - 1)][0]
        assert isinstance(outcome, StepTimeoutError if last_duration > TIMEOUT else ValueError)
    assert events == expected
    assert len(sleep.waits) == sum(e.startswith("start") for e in events) - 1
    overruns = [plans[min(n, len(plans) - 1)][0] > TIMEOUT
                for n in range(sum(e.startswith("start") for e in events))]
    assert len(notices.messages("thread_wait")) == sum(overruns)
