"""Process steps on executors that cannot stop a started task (threads, a user's executor)
behave like sync steps: on timeout or cancel, one WARNING naming the step, the queued tasks
cancelled, the running ones waited for, then the rollback; a task that returned normally after
it is rolled back too (DESIGN §2.4, §2.14).

In process, blocked functions wait on events (`tests.helpers_threads`); through the CLI,
`tests/apps/ops_app.py` runs in a real subprocess with `--executor thread`, its task waiting
for a gate file the test creates once the warning is out.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from falyx import ProcessAction, ProcessPoolAction, ProcessTask, chain
from falyx.action import Action
from falyx.errors import StepTimeoutError
from tests.helpers_threads import Blocking, Notices, watching
from tests.test_runner_signals import Cli, history

WAITING = ("[{step}] timed out after 0.5s; {what} cannot be stopped, waiting for it to end "
           "before rolling back")


@pytest.fixture
def notices() -> Iterator[Notices]:
    with watching() as handler:
        yield handler


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(max_workers=1)
    yield executor
    executor.shutdown(wait=False, cancel_futures=True)


@pytest.mark.parametrize("raises", [False, True], ids=["returns", "raises"])
async def test_a_timed_out_task_on_the_thread_executor_is_waited_for_then_rolled_back(
    registry, notices: Notices, raises: bool
) -> None:
    events: list[str] = []
    task = Blocking(OSError("late failure") if raises else None)
    run = asyncio.ensure_future(chain(
        Action("first", lambda: events.append("first") or 1,
               rollback=lambda: events.append("undo first")),
        ProcessAction("task", task, executor="thread", timeout=0.5,
                      rollback=lambda: events.append("undo task")), name="release")())
    await notices.wait("thread_wait")
    assert events == ["first"]  # nothing is undone while the task runs
    task.gate.set()
    with pytest.raises(StepTimeoutError, match=r"^step 'task' timed out after 0\.5s$"):
        await run

    assert notices.messages("thread_wait") == [
        WAITING.format(step="task", what="its task on the thread executor")]
    assert events == (["first", "undo first"] if raises
                      else ["first", "undo task", "undo first"])
    assert [r.name for r in registry.records() if r.kind == "Rollback"] == (
        ["first"] if raises else ["task", "first"])


async def test_a_pool_on_a_users_executor_cancels_queued_tasks_and_waits_for_the_running(
    registry, notices: Notices, pool: ThreadPoolExecutor
) -> None:
    events: list[str] = []
    running, queued = Blocking(), Blocking()
    step = ProcessPoolAction("batch", [ProcessTask(running), ProcessTask(queued)],
                             executor=pool, timeout=0.5,
                             rollback=lambda: events.append("undo batch"))
    run = asyncio.ensure_future(step())
    await notices.wait("thread_wait")
    running.gate.set()
    with pytest.raises(StepTimeoutError):
        await run

    assert notices.messages("thread_wait") == [
        WAITING.format(step="batch", what="its tasks on the thread executor")]
    assert (running.calls, queued.calls) == (1, 0)  # the queued one never ran
    assert events == ["undo batch"]  # what ran returned normally: its effects are undone
    assert registry.records(name="batch", status="ERROR")[0].kind == "ProcessPoolAction"


async def test_a_task_that_ends_before_the_cancellation_lands_needs_no_wait(
    registry, notices: Notices
) -> None:
    step = ProcessAction("quick", lambda: "done", executor="thread")
    assert await step() == "done" and notices.messages("thread_wait") == []


# -- through the CLI, real signals -----------------------------------------------------------
@pytest.mark.parametrize(("signum", "code", "reason"), [
    (signal.SIGINT, 130, "Interrupted (SIGINT)"), (signal.SIGTERM, 143, "Terminated (SIGTERM)")])
def test_a_signal_waits_for_a_thread_executor_task_then_rolls_it_back(
    tmp_path: Path, signum: int, code: int, reason: str
) -> None:
    db = tmp_path / "h.db"
    cli = Cli("--history", str(db), "--executor", "thread", "run", "PG", "--json",
              MARKERS=str(tmp_path))
    try:
        cli.wait_for("prepared")
        _wait_for_file(tmp_path / "gated", cli)
        cli.signal(signum)
        cli.wait_for(f"[gated] {reason[0].lower()}{reason[1:]}; its task on the thread "
                     "executor cannot be stopped, waiting for it to end before rolling back",
                     "err")
        assert "rolled back" not in cli.seen["out"].decode()  # nothing undone while it runs
        (tmp_path / "gate").touch()
        status, out, err = cli.finish()
    finally:
        if cli.proc.poll() is None:
            cli.proc.kill()
            cli.proc.wait()

    assert status == code
    lines = out.splitlines()
    assert lines[:3] == ["prepared", "undid gated", "rolled back"]
    outcome = json.loads(lines[-1])
    assert (outcome["status"], outcome["error"]) == ("CANCELLED", f"CancelledError: {reason}")
    assert "[gated] returned after it was cancelled" in err and "Traceback" not in err
    records = {(r["kind"], r["name"]): r["status"] for r in history(db)}
    assert records[("ProcessAction", "gated")] == "CANCELLED"
    assert records[("Rollback", "gated")] == "OK"


def test_a_third_ctrl_c_stops_waiting_for_a_thread_executor_task(tmp_path: Path) -> None:
    cli = Cli("--executor", "thread", "run", "PG", MARKERS=str(tmp_path))
    try:
        cli.wait_for("prepared")
        _wait_for_file(tmp_path / "gated", cli)
        cli.signal(signal.SIGINT)
        cli.wait_for("waiting for it to end before rolling back", "err")
        cli.signal(signal.SIGINT)
        cli.wait_for("Waiting for 'gated' to return", "err")
        cli.signal(signal.SIGINT)
        status, out, err = cli.finish()  # a hang on the task fails here, after TIMEOUT
    finally:
        (tmp_path / "gate").touch()  # the abandoned task may end (the process has exited)
        if cli.proc.poll() is None:
            cli.proc.kill()
            cli.proc.wait()
    assert status == 130
    assert out.splitlines() == ["prepared"]
    assert "[gated] no longer waiting (aborted)" in err and "Traceback" not in err


def _wait_for_file(path: Path, cli: Any) -> None:
    """Block until the task has written its marker (it is running on the executor)."""
    import time

    from tests.test_runner_signals import TIMEOUT

    deadline = time.monotonic() + TIMEOUT
    while not path.exists():
        assert cli.proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
