"""Process steps on Dask: a real `distributed.LocalCluster` (2 worker processes) per module."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import LocalCluster

from falyx import ProcessAction, ProcessPoolAction, ProcessTask
from falyx.action.executors import resolve_executor, shutdown_executors
from falyx.errors import ActionGroupError, StepTimeoutError
from tests import helpers_process as work
from tests.conftest import ROOT, subprocess_env
from tests.helpers_engine import fail_with, square_after
from tests.helpers_threads import watching
from tests.test_runner_signals import OPS, TIMEOUT, Cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The address of a local cluster of two worker processes, as `dask://HOST:PORT`."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        yield cluster.scheduler_address.replace("tcp://", "dask://")
        shutdown_executors()  # the clients falyx opened, before their scheduler goes away


def test_results_come_back_in_submission_order(registry, scheduler: str) -> None:
    tasks = [ProcessTask(square_after, (0.3, 1)), ProcessTask(square_after, (0.0, 2)),
             ProcessTask(square_after, (0.1, 3))]
    results = asyncio.run(_run(ProcessPoolAction("squares", tasks, executor=scheduler)))
    assert [value for value, _ in results] == [1, 4, 9]


def test_exceptions_arrive_with_their_type_and_message(registry, scheduler: str) -> None:
    with pytest.raises(ValueError, match=r"^remote broke$"):
        asyncio.run(_run(ProcessAction("boom", fail_with, args=("remote broke",),
                                       executor=scheduler)))
    pool = ProcessPoolAction("pool", [ProcessTask(fail_with, ("one",)), work.where],
                             executor=scheduler)
    with pytest.raises(ActionGroupError) as info:
        asyncio.run(_run(pool))
    assert [(type(e), str(e)) for e in info.value.exceptions] == [(ValueError, "one")]
    assert info.value.results == ["dask"]


def test_a_lambda_runs_on_dask(registry, scheduler: str) -> None:
    step = ProcessAction("lambda", lambda x: x + 1, args=(41,), executor=scheduler)
    assert asyncio.run(_run(step)) == 42


def test_a_retry_resubmits(registry, scheduler: str, tmp_path: Path) -> None:
    marker = tmp_path / "count"
    step = ProcessAction("flaky", work.fail_until, args=(str(marker), 1), retry=1,
                         executor=scheduler)
    assert asyncio.run(_run(step)) == "done"
    assert marker.read_text() == "2"  # ran twice: pure=False, no cached result
    assert registry.latest().attempts == 2


def test_a_timeout_waits_for_the_started_dask_task_then_rolls_it_back(
    registry, scheduler: str, tmp_path: Path
) -> None:
    """Dask cannot stop a task a worker runs (cancelling its future only drops the result):
    falyx waits for it, as for a sync step's thread, and undoes it once it returned."""
    client = resolve_executor(scheduler).client  # type: ignore[attr-defined]
    before = client.run_on_scheduler(_task_keys)
    undone: list[str] = []
    step = ProcessAction("slow", work.gated, args=(str(tmp_path / "m"), str(tmp_path / "gate")),
                         timeout=0.5, executor=scheduler, rollback=lambda *_: undone.append("x"))

    async def scenario() -> None:
        with watching() as notices:
            run = asyncio.ensure_future(step())
            await notices.wait("thread_wait")
            assert notices.messages("thread_wait") == [
                "[slow] timed out after 0.5s; its task on Dask cannot be stopped, waiting for it "
                "to end before rolling back"]
            (tmp_path / "gate").touch()
            with pytest.raises(StepTimeoutError):
                await run

    asyncio.run(scenario())
    assert undone == ["x"]
    deadline = time.monotonic() + TIMEOUT
    while set(client.run_on_scheduler(_task_keys)) - set(before):  # forgotten once done
        assert time.monotonic() < deadline, "the remote future was kept"
        time.sleep(0.05)


def test_sigint_during_a_dask_step_rolls_back_and_exits_130(
    scheduler: str, tmp_path: Path
) -> None:
    cli = Cli("--executor", scheduler, "run", "PG", MARKERS=str(tmp_path))
    cli.wait_for("prepared")
    marker = tmp_path / "gated"
    deadline = time.monotonic() + TIMEOUT
    while not marker.exists():  # the task has started on a Dask worker
        assert time.monotonic() < deadline
        time.sleep(0.01)
    cli.signal(signal.SIGINT)
    cli.wait_for("[gated] interrupted (SIGINT); its task on Dask cannot be stopped, waiting for "
                 "it to end before rolling back", "err")
    (tmp_path / "gate").touch()
    status, out, err = cli.finish()

    assert status == 130
    assert out.splitlines() == ["prepared", "undid gated", "rolled back"]
    assert err.splitlines()[-1] == "Interrupted."


def test_the_executor_flag_moves_the_same_workflow_to_dask(scheduler: str) -> None:
    results = {}
    for argv in ([], ["--executor", scheduler]):
        done = subprocess.run([sys.executable, str(OPS), *argv, "run", "W", "--json"],
                              capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT,
                              env=subprocess_env())
        assert done.returncode == 0, done.stderr
        results[bool(argv)] = json.loads(done.stdout)["result"]
    assert results[True] == "dask"
    assert results[False].isdigit()  # a local worker's pid


def test_a_scheduler_address_where_nothing_listens_is_one_line_and_exit_2() -> None:
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(OPS), "--executor", f"dask://127.0.0.1:{port}",
                           "run", "W"], capture_output=True, text=True, timeout=TIMEOUT,
                          cwd=ROOT, env=subprocess_env(FALYX_DASK_TIMEOUT="2"))
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"Error: ExecutorError: no Dask scheduler answered at "
                           f"tcp://127.0.0.1:{port} within 2s")
    assert time.monotonic() - started < 2 + 8  # the connect timeout, plus start-up


def test_a_dask_spec_without_the_extra_says_to_install_it() -> None:
    code = ("import runpy, sys\n"
            "sys.modules['distributed'] = None  # as if falyx[dask] were not installed\n"
            f"sys.argv = ['ops_app.py', '--executor', 'dask:1', 'run', 'W']\n"
            f"runpy.run_path({str(OPS)!r}, run_name='__main__')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=TIMEOUT, cwd=ROOT, env=subprocess_env())
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "Error: --executor: Dask executors need the dask extra: pip install 'falyx[dask]'")


def test_a_dask_executor_in_code_without_the_extra_fails_the_step_with_the_same_line() -> None:
    code = ("import asyncio, sys\n"
            "sys.modules['distributed'] = None\n"
            "from falyx import ProcessAction\n"
            "from tests.helpers_process import where\n"
            "try:\n"
            "    asyncio.run(ProcessAction('w', where, executor='dask:1')())\n"
            "except Exception as exc:\n"
            "    print(type(exc).__name__, exc, exc.exit_code)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=TIMEOUT, cwd=ROOT, env=subprocess_env())
    assert done.stdout.strip() == (
        "ExecutorError Dask executors need the dask extra: pip install 'falyx[dask]' 2")


async def _run(step):
    return await step()


def _task_keys(dask_scheduler) -> list[str]:
    return [str(key) for key in dask_scheduler.tasks]
