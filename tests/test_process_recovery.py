"""Process steps that recover: crashed workers, stopped tasks, exceptions that cannot come back.

Each test uses a pool of its own (`LocalProcessPool`), real worker processes and marker files
the workers write; nothing sleeps to win a race.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import os
import signal
import time
import weakref
from collections.abc import Iterator
from concurrent.futures import BrokenExecutor
from pathlib import Path

import pytest

from falyx import ProcessAction, ProcessPoolAction, ProcessTask
from falyx.action.pool import LocalProcessPool
from falyx.errors import NotPicklableError, RemoteError, StepTimeoutError
from tests import helpers_process as work

pytestmark = pytest.mark.slow

DEADLINE = 30.0


@pytest.fixture
def pool() -> Iterator[LocalProcessPool]:
    executor = LocalProcessPool(1)
    yield executor
    executor.shutdown(wait=False, cancel_futures=True)


async def wait_for_file(path: Path) -> int:
    """The pid a worker wrote to `path`, once it is there."""
    deadline = time.monotonic() + DEADLINE
    while not (path.exists() and path.read_text()):
        assert time.monotonic() < deadline, f"{path} never appeared"
        await asyncio.sleep(0.01)
    return work.marked(path)[0]


async def wait_until_gone(pid: int) -> None:
    deadline = time.monotonic() + DEADLINE
    while _alive(pid):
        assert time.monotonic() < deadline, f"process {pid} still runs"
        await asyncio.sleep(0.01)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"  # a zombie has stopped running
    except (FileNotFoundError, ProcessLookupError):  # gone, or reaped while read
        return False


# -- crashed workers ---------------------------------------------------------------------
@pytest.mark.parametrize("crash", [
    ProcessTask(work.crash, (3,)), ProcessTask(work.kill_self, (signal.SIGKILL,)),
    ProcessTask(work.kill_self, (signal.SIGSEGV,))], ids=["os._exit", "SIGKILL", "segfault"])
async def test_a_dead_worker_fails_its_step_and_the_pool_is_replaced_on_next_use(
    registry, pool: LocalProcessPool, crash: ProcessTask
) -> None:
    from concurrent.futures.process import BrokenProcessPool

    with pytest.raises(BrokenProcessPool):
        await ProcessAction("crash", crash.task, args=crash.args, executor=pool)()
    first = await ProcessAction("after", work.pid_after, executor=pool)()
    second = await ProcessAction("later", work.pid_after, executor=pool)()
    assert first == second != os.getpid()


async def test_a_retry_of_the_step_whose_worker_died_gets_a_working_pool(
    registry, pool: LocalProcessPool, tmp_path: Path
) -> None:
    step = ProcessAction("flaky", work.crash_first_time, args=(str(tmp_path / "m"),),
                         executor=pool, retry=1)
    assert await step() != os.getpid()
    assert registry.latest().attempts == 2


async def test_workers_ignore_sigint(registry, pool: LocalProcessPool, tmp_path: Path) -> None:
    marker = tmp_path / "spin"
    task = asyncio.ensure_future(ProcessAction("spin", work.spin, args=(str(marker),),
                                               executor=pool)())
    pid = await wait_for_file(marker)
    os.kill(pid, signal.SIGINT)  # what a Ctrl-C at the terminal sends the whole group
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await ProcessAction("next", work.pid_after, executor=pool)() == pid  # same worker


# -- exceptions that cannot come back -----------------------------------------------------
async def test_an_exception_that_cannot_be_unpickled_arrives_as_remote_error(
    registry, pool: LocalProcessPool
) -> None:
    with pytest.raises(RemoteError) as info:
        await ProcessAction("two", work.raise_two_arg_error, executor=pool)()
    error = info.value
    assert (error.exc_type, error.exc_message) == ("TwoArgError", "7: disk on fire")
    assert str(error) == "TwoArgError: 7: disk on fire"
    assert "raise_two_arg_error" in error.remote_traceback
    assert "TwoArgError: 7: disk on fire" in error.remote_traceback
    assert await ProcessAction("next", work.pid_after, executor=pool)() != os.getpid()


async def test_a_function_the_worker_cannot_import_is_a_clear_error(
    registry, pool: LocalProcessPool
) -> None:
    import pickle

    fn = work.pid_after
    payload = pickle.dumps((fn, (), {})).replace(b"tests.helpers_process", b"tests.nowhere_xyz")
    future = pool.submit_payload(payload)
    with pytest.raises(NotPicklableError, match="could not load the task"):
        await asyncio.wrap_future(future)


# -- timeout and cancel stop the work ------------------------------------------------------
async def test_a_timed_out_step_stops_its_task_and_the_worker_serves_the_next(
    registry, pool: LocalProcessPool, tmp_path: Path
) -> None:
    marker = tmp_path / "spin"
    await ProcessAction("start pool", work.pid_after, executor=pool)()  # not in the timeout
    with pytest.raises(StepTimeoutError):
        await ProcessAction("spin", work.spin, args=(str(marker),), timeout=0.5,
                            executor=pool)()
    pid = work.marked(marker)[0]
    # the pool has one worker: the next step can only run if the endless task was stopped
    assert await ProcessAction("next", work.pid_after, executor=pool)() == pid


async def test_a_task_deaf_to_the_interrupt_has_its_worker_killed_after_kill_grace(
    registry, pool: LocalProcessPool, tmp_path: Path
) -> None:
    marker = tmp_path / "deaf"
    await ProcessAction("start pool", work.pid_after, executor=pool)()  # not in the timeout
    step = ProcessAction("deaf", work.spin_deaf, args=(str(marker),), timeout=0.5,
                         kill_grace=0.2, executor=pool)
    with pytest.raises(StepTimeoutError):
        await step()
    pid = work.marked(marker)[0]
    await wait_until_gone(pid)
    assert await ProcessAction("next", work.pid_after, executor=pool)() != pid


def test_a_pool_replaced_after_a_kill_is_let_go_once_its_task_has_ended(
    pool: LocalProcessPool, tmp_path: Path
) -> None:
    """Held while its task is pending, let go by the next submission, never from a future's
    done-callback (there, on CPython 3.12.1, the executor's weakref callback deadlocked exit:
    `tests/test_process_cli.py`'s deaf step)."""
    marker = tmp_path / "deaf"
    future = pool.submit(work.spin_deaf, str(marker))
    replaced = weakref.ref(pool._owner[future.falyx_token])  # type: ignore[attr-defined]
    pid = asyncio.run(wait_for_file(marker))
    pool.kill(future, pid)
    concurrent.futures.wait([future], timeout=DEADLINE)
    assert isinstance(future.exception(), BrokenExecutor)
    gc.collect()
    assert replaced() is not None  # its future is done, but nothing dropped it there

    assert pool.submit(work.pid_after).result(timeout=DEADLINE) != pid
    gc.collect()
    assert replaced() is None


async def test_cancelling_a_pool_step_stops_running_and_queued_tasks(
    registry, tmp_path: Path
) -> None:
    pool = LocalProcessPool(2)
    try:
        markers = [tmp_path / f"spin{i}" for i in range(4)]
        step = ProcessPoolAction("spins", [ProcessTask(work.spin, (str(m),)) for m in markers],
                                 executor=pool)
        task = asyncio.ensure_future(step())
        pids = {await wait_for_file(markers[0]), await wait_for_file(markers[1])}
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        results = await ProcessPoolAction(
            "next", [ProcessTask(work.pid_after, (0.05,)) for _ in range(4)], executor=pool)()
        assert set(results) <= pids  # the same two workers, free again
        assert registry.records(name="spins")[-1].status == "CANCELLED"
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


@pytest.mark.parametrize("grace", [-1, "5", True])
def test_kill_grace_must_be_a_non_negative_number(grace: object) -> None:
    with pytest.raises(ValueError, match="kill_grace"):
        ProcessAction("p", work.pid_after, kill_grace=grace)  # type: ignore[arg-type]
