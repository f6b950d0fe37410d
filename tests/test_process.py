"""Process steps in real worker processes: results, ordering, failures, pickling, executors."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

import pytest

from falyx import ProcessAction, ProcessPoolAction, ProcessTask
from falyx.action.executors import resolve_executor
from falyx.errors import (
    ActionGroupError,
    EmptyGroupError,
    FalyxError,
    InvalidActionError,
    NotPicklableError,
)
from tests.helpers_engine import add, current_pid, fail_with, square, square_after

pytestmark = pytest.mark.slow


class RecordingExecutor(Executor):
    """Any `concurrent.futures.Executor`: records what is submitted, runs it in a thread."""

    def __init__(self) -> None:
        self.submitted: list[Any] = []
        self._pool = ThreadPoolExecutor(max_workers=2)

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted.append(fn)
        return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


@pytest.fixture
def recording_executor():
    executor = RecordingExecutor()
    yield executor
    executor.shutdown()


# -- ProcessAction ---------------------------------------------------------------------


async def test_process_action_computes_its_result_in_another_process(registry) -> None:
    pid = await ProcessAction("pid", current_pid, executor="process:2")()
    assert isinstance(pid, int) and pid != os.getpid()
    assert registry.latest().status == "OK"


async def test_default_executor_is_one_shared_process_pool(registry) -> None:
    assert resolve_executor(None) is resolve_executor("process")
    pid = await ProcessAction("pid", current_pid)()
    assert pid != os.getpid()


async def test_process_action_merges_call_and_stored_arguments(registry) -> None:
    step = ProcessAction("add", add, args=(2,), kwargs={"scale": 10}, executor="process:2")
    assert await step(1) == 30
    assert await step(1, scale=2) == 6
    assert step.fn is add and step.action is add


async def test_process_failure_raises_the_workers_exception(registry) -> None:
    with pytest.raises(ValueError, match="worker broke"):
        await ProcessAction("boom", fail_with, args=("worker broke",), executor="process:2")()
    assert registry.latest().status == "ERROR"


async def test_process_action_retries_in_the_driver(registry, fake_sleep) -> None:
    step = ProcessAction("boom", fail_with, args=("again",), executor="process:2", retry=2)
    with pytest.raises(ValueError, match="again"):
        await step()
    assert registry.latest().attempts == 3
    assert len(fake_sleep.waits) == 2


def test_process_action_needs_a_callable() -> None:
    with pytest.raises(InvalidActionError, match="'p'"):
        ProcessAction("p", 42)  # type: ignore[arg-type]


# -- ProcessPoolAction -----------------------------------------------------------------


async def test_pool_results_come_in_submission_order(registry) -> None:
    tasks = [ProcessTask(square_after, (0.03, 1)), ProcessTask(square_after, (0.0, 2)),
             ProcessTask(square_after, (0.0, 3))]
    results = await ProcessPoolAction("squares", tasks, executor="process:2")()
    assert [value for value, _ in results] == [1, 4, 9]
    assert all(pid != os.getpid() for _, pid in results)


async def test_pool_accepts_plain_callables_and_kwargs(registry) -> None:
    tasks = [current_pid, ProcessTask(add, (1, 2), {"scale": 3})]
    pid, total = await ProcessPoolAction("mixed", tasks, executor="process:2")()
    assert pid != os.getpid() and total == 9


async def test_pool_failures_are_aggregated_as_an_action_group_error(registry) -> None:
    tasks = [ProcessTask(square, (2,)), ProcessTask(fail_with, ("task broke",)),
             ProcessTask(square, (3,))]
    with pytest.raises(ActionGroupError) as info:
        await ProcessPoolAction("pool", tasks, executor="process:2")()
    error = info.value
    assert [type(e) for e in error.exceptions] == [ValueError]
    assert str(error.exceptions[0]) == "task broke"
    assert error.results == [4, 9]
    assert "'pool'" in str(error) and "pool[1]" in str(error)


async def test_empty_pool_raises_empty_group_error(registry) -> None:
    with pytest.raises(EmptyGroupError, match="'idle'"):
        await ProcessPoolAction("idle", [])()


def test_process_task_needs_a_callable() -> None:
    with pytest.raises(InvalidActionError):
        ProcessTask("square")  # type: ignore[arg-type]


# -- pickling --------------------------------------------------------------------------


async def test_unpicklable_callable_fails_before_submission(
    registry, fake_sleep, recording_executor
) -> None:
    step = ProcessAction("lambda_step", lambda: 1, executor=recording_executor, retry=2)
    with pytest.raises(NotPicklableError) as info:
        await step()
    message = str(info.value)
    assert "'lambda_step'" in message and "module-level function" in message
    assert isinstance(info.value, FalyxError)
    assert recording_executor.submitted == []
    assert fake_sleep.waits == []  # a definition error is never retried


async def test_unpicklable_argument_fails_before_submission(registry, recording_executor) -> None:
    step = ProcessAction("locked", square, args=(threading.Lock(),), executor=recording_executor)
    with pytest.raises(NotPicklableError, match=r"'locked'.*picklable arguments"):
        await step()
    assert recording_executor.submitted == []


async def test_one_unpicklable_pool_task_stops_every_submission(
    registry, recording_executor
) -> None:
    tasks = [ProcessTask(square, (2,)), ProcessTask(lambda: 1), ProcessTask(square, (3,))]
    with pytest.raises(NotPicklableError, match=r"pool\[1\]"):
        await ProcessPoolAction("pool", tasks, executor=recording_executor)()
    assert recording_executor.submitted == []


# -- executors -------------------------------------------------------------------------


async def test_a_thread_pool_executor_works_without_pickling(registry) -> None:
    with ThreadPoolExecutor(max_workers=1) as executor:
        assert await ProcessAction("t", lambda x: x + 1, args=(1,), executor=executor)() == 2
        pool = ProcessPoolAction("tp", [ProcessTask(square, (4,))], executor=executor)
        assert await pool() == [16]


async def test_any_concurrent_futures_executor_works(registry, recording_executor) -> None:
    assert await ProcessAction("custom", square, args=(5,), executor=recording_executor)() == 25
    assert len(recording_executor.submitted) == 1


@pytest.mark.parametrize("spec", ["process:2", "thread", "thread:2", "PROCESS"])
async def test_executor_spec_strings_work(registry, spec: str) -> None:
    assert await ProcessAction("p", square, args=(3,), executor=spec)() == 9


async def test_thread_spec_runs_in_this_process(registry) -> None:
    assert await ProcessAction("p", current_pid, executor="thread")() == os.getpid()


@pytest.mark.parametrize("spec", ["gpu", "process:0", "process:x", "thread:-1", 4])
def test_bad_executor_spec_raises_value_error_when_the_step_is_defined(spec: Any) -> None:
    with pytest.raises(ValueError, match=r"executor"):
        ProcessAction("p", square, args=(3,), executor=spec)
    with pytest.raises(ValueError, match=r"executor"):
        ProcessPoolAction("pool", [square], executor=spec)


def test_process_steps_preview_with_their_icon() -> None:
    lines = ProcessPoolAction("pool", [square, ProcessTask(add, (1,))]).preview().lines()
    assert lines == ["⚡ ProcessPoolAction 'pool'", "    ⚡ square", "    ⚡ add"]
    assert ProcessAction("one", square).preview().lines() == ["⚡ ProcessAction 'one'"]
