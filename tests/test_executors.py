"""Executor specs, the default executor, and the rollback abort, in-process."""

from __future__ import annotations

import asyncio
import os
import string
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given
from hypothesis import strategies as st

from falyx import ProcessAction, chain
from falyx.action import Action
from falyx.action.executors import (
    ExecutorSpec,
    check_executor,
    default_executor,
    parse_executor,
    resolve_executor,
    using_executor,
)
from falyx.action.scopes import ROLLBACK_CONTROL, RollbackControl
from falyx.errors import ExecutorError, UsageError
from tests.helpers_process import where


@pytest.mark.parametrize(("spec", "parsed"), [
    ("process", ExecutorSpec("process")),
    ("Process:4", ExecutorSpec("process", 4)),
    ("thread", ExecutorSpec("thread")),
    ("thread:2", ExecutorSpec("thread", 2)),
    ("dask", ExecutorSpec("dask")),
    ("dask:3", ExecutorSpec("dask", 3)),
    ("dask://10.0.0.5:8786", ExecutorSpec("scheduler", address="tcp://10.0.0.5:8786")),
    ("tcp://sched.example:8786/", ExecutorSpec("scheduler", address="tcp://sched.example:8786")),
])
def test_every_documented_spec_parses(spec: str, parsed: ExecutorSpec) -> None:
    assert parse_executor(spec) == parsed


@given(st.text(alphabet=string.ascii_letters + string.digits + ":/.-", max_size=30))
def test_any_text_either_parses_or_is_an_executor_error(text: str) -> None:
    try:
        spec = parse_executor(text)
    except ExecutorError as exc:
        assert isinstance(exc, ValueError) and isinstance(exc, UsageError)
        assert exc.exit_code == 2 and repr(text) in str(exc)
    else:
        assert spec.kind in {"process", "thread", "dask", "scheduler"}
        assert spec.workers is None or spec.workers >= 1
        assert parse_executor(spec.key) == spec  # the key is itself a spec for the same pool


def test_an_executor_object_is_used_as_it_is() -> None:
    with ThreadPoolExecutor(1) as pool:
        assert check_executor(pool) is None
        assert resolve_executor(pool) is pool


def test_the_default_is_the_flag_then_the_environment_then_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FALYX_EXECUTOR", raising=False)
    assert default_executor() == "process"
    monkeypatch.setenv("FALYX_EXECUTOR", "thread:3")
    assert default_executor() == "thread:3"
    with using_executor("thread"):
        assert default_executor() == "thread"
    assert default_executor() == "thread:3"
    with pytest.raises(ExecutorError), using_executor("gpu"):
        pass


async def test_a_step_without_an_executor_follows_the_default(registry) -> None:
    step = ProcessAction("where", where)
    with using_executor("thread"):
        assert await step() == str(os.getpid())
    assert await step() != str(os.getpid())


async def test_an_aborted_rollback_records_the_steps_it_did_not_run(registry) -> None:
    undone: list[str] = []
    started = asyncio.Event()

    async def slow_undo() -> None:
        started.set()
        await asyncio.Event().wait()

    async def wait_forever() -> None:
        await asyncio.Event().wait()

    release = chain(Action("a", lambda: 1, rollback=lambda: undone.append("a")),
                    Action("b", lambda: 2, rollback=slow_undo),
                    Action("c", wait_forever), name="release")
    control = RollbackControl()
    token = ROLLBACK_CONTROL.set(control)
    try:
        run = asyncio.ensure_future(release())
    finally:
        ROLLBACK_CONTROL.reset(token)
    await asyncio.sleep(0)
    while not registry.records(name="b"):  # 'a' and 'b' have completed
        await asyncio.sleep(0)
    run.cancel()
    await started.wait()
    control.abort()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert undone == []
    rollbacks = [(r.name, r.status) for r in registry.records() if r.kind == "Rollback"]
    assert rollbacks == [("b", "CANCELLED"), ("a", "CANCELLED")]


async def test_rollback_logs_one_warning_per_step_naming_what_failed(registry, falyx_log) -> None:
    def deploy() -> None:
        raise RuntimeError("no")

    release = chain(Action("build", lambda: 1, rollback=lambda: None),
                    Action("test", lambda: 2, rollback=lambda: None),
                    Action("deploy", deploy), name="release")
    with pytest.raises(RuntimeError):
        await release()
    warnings = [r.getMessage() for r in falyx_log.records if r.levelname == "WARNING"]
    assert warnings == ["[test] Rolled back after 'deploy' failed",
                        "[build] Rolled back after 'deploy' failed"]
