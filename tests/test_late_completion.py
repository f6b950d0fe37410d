"""Steps that complete late: a sync step's thread (or an executor's task) that falyx waited
for after a timeout or a cancellation and that then returned normally has applied its effects,
so it is rolled back with the completed steps before it, its own rollback first (DESIGN §2.4).

Blocked functions wait on events the test sets (`tests.helpers_threads`); the signal cases run
`tests/apps/threads_app.py` in a real subprocess and signal it at a line of its output.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from falyx import Action, ActionGroup, RetryPolicy, chain
from falyx.action.scopes import ROLLBACK_CONTROL, RollbackControl
from falyx.command import Command
from falyx.errors import ActionGroupError, StepTimeoutError
from tests.helpers_threads import Blocking, Notices, watching
from tests.test_cancel_threads_cli import Cli, gate, history, release, start  # noqa: F401

LATE = "late_rollback"


@pytest.fixture
def notices() -> Any:
    with watching() as handler:
        yield handler


def noting(events: list[str], text: str) -> Any:
    """An async step appending `text`: nothing before the blocked step runs in a thread, so a
    timeout of the enclosing chain fires while that step's thread runs (a loaded machine may
    take a while to start a thread)."""
    async def note(**_: Any) -> None:
        events.append(text)

    return note


def steps(events: list[str], late: Blocking, **options: Any) -> tuple[Action, Action]:
    first = Action("first", noting(events, "first"),
                   rollback=lambda: events.append("undo first"))
    migrate = Action("migrate", late, rollback=lambda: events.append("undo migrate"), **options)
    return first, migrate


def kinds(registry: Any) -> list[tuple[str, str, str]]:
    return [(r.kind, r.name, r.status) for r in registry.records()]


# -- a timeout ------------------------------------------------------------------------------
async def test_a_step_that_returns_after_its_timeout_is_rolled_back_first(
    registry, notices: Notices
) -> None:
    events: list[str] = []
    late = Blocking()
    run = asyncio.ensure_future(chain(*steps(events, late, timeout=0.5), name="release")())
    await notices.wait("thread_wait")
    late.gate.set()
    with pytest.raises(StepTimeoutError):
        await run

    assert events == ["first", "undo migrate", "undo first"]
    assert notices.messages(LATE) == ["[migrate] returned after its timeout; rolling it back too"]
    assert kinds(registry) == [
        ("Action", "first", "OK"), ("Rollback", "migrate", "OK"), ("Action", "migrate", "ERROR"),
        ("Rollback", "first", "OK"), ("ChainedAction", "release", "ERROR")]
    undo = registry.records(name="migrate")[0]
    assert undo.kind == "Rollback" and undo.parent is registry.records(name="release")[0]


async def test_a_step_that_raises_after_its_timeout_is_not_rolled_back(
    registry, notices: Notices
) -> None:
    events: list[str] = []
    late = Blocking(error=OSError("disk full"))
    run = asyncio.ensure_future(chain(*steps(events, late, timeout=0.5), name="release")())
    await notices.wait("thread_wait")
    late.gate.set()
    with pytest.raises(StepTimeoutError):
        await run

    assert events == ["first", "undo first"]
    assert notices.messages(LATE) == []
    assert [r.name for r in registry.records() if r.kind == "Rollback"] == ["first"]


async def test_a_late_step_without_a_rollback_leaves_nothing_to_undo(
    registry, notices: Notices
) -> None:
    events: list[str] = []
    late = Blocking()
    first = Action("first", lambda: events.append("first"),
                   rollback=lambda: events.append("undo first"))
    run = asyncio.ensure_future(chain(first, Action("migrate", late, timeout=0.5))())
    await notices.wait("thread_wait")
    late.gate.set()
    with pytest.raises(StepTimeoutError):
        await run
    assert events == ["first", "undo first"] and notices.messages(LATE) == []


async def test_a_late_attempt_before_a_successful_retry_is_not_undone(
    registry, notices: Notices
) -> None:
    events: list[str] = []
    late = Blocking()

    def migrate() -> str:
        return late() if late.calls == 0 else "in time"  # only the first attempt blocks

    # long enough for the retry's thread to start and return on a loaded machine
    run = asyncio.ensure_future(
        Action("migrate", migrate, timeout=1, retry=RetryPolicy(1, delay=0),
               rollback=lambda: events.append("undo migrate"))())
    await notices.wait("thread_wait")
    late.gate.set()  # the first attempt returns late, the retry returns in time
    assert await run == "in time"
    assert late.calls == 1 and events == [] and notices.messages(LATE) == []


# -- an enclosing timeout, at any depth -----------------------------------------------------
@pytest.mark.parametrize("depth", [1, 2, 3])
async def test_a_late_step_in_nested_chains_is_undone_before_everything_before_it(
    registry, notices: Notices, depth: int
) -> None:
    events: list[str] = []
    late = Blocking()
    first, migrate = steps(events, late)
    inner: Any = migrate
    for level in range(depth):
        inner = chain(Action(f"pre{level}", noting(events, f"pre{level}"),
                             rollback=lambda lv=level: events.append(f"undo pre{lv}")),
                      inner, name=f"level{level}")
    outer = chain(first, inner, name="outer", timeout=0.5)
    run = asyncio.ensure_future(outer())
    await notices.wait("thread_wait")
    late.gate.set()
    with pytest.raises(StepTimeoutError):
        await run

    pres = [f"pre{level}" for level in reversed(range(depth))]
    assert events == ["first", *pres, "undo migrate",
                      *(f"undo {p}" for p in reversed(pres)), "undo first"]
    assert notices.messages(LATE) == [
        "[migrate] returned after it was cancelled ('outer' timed out after 0.5s); rolling it "
        "back too"]
    assert registry.records(name="migrate", status="CANCELLED")[0].kind == "Action"


async def test_a_command_timeout_rolls_back_its_late_step(registry, notices: Notices) -> None:
    events: list[str] = []
    late = Blocking()
    command = Command("M", "migrate", chain(*steps(events, late), name="release"),
                      timeout=0.5)
    run = asyncio.ensure_future(command())
    await notices.wait("thread_wait")
    late.gate.set()
    with pytest.raises(StepTimeoutError):
        await run
    assert events == ["first", "undo migrate", "undo first"]
    assert len(notices.messages(LATE)) == 1


async def test_a_late_group_member_is_undone_with_the_members_that_succeeded(
    registry, notices: Notices
) -> None:
    events: list[str] = []
    late = Blocking()

    async def bad() -> None:
        await asyncio.to_thread(late.started.wait)  # fails once the late member runs
        raise ValueError("bad member")

    members = [Action("ok", lambda: events.append("ok"), rollback=lambda: events.append(
        "undo ok")), Action("bad", bad), Action("migrate", late, rollback=lambda: events.append(
            "undo migrate"))]
    run = asyncio.ensure_future(ActionGroup("g", members, fail_fast=True)())
    await notices.wait("thread_wait")
    late.gate.set()
    with pytest.raises(ActionGroupError, match="bad member"):
        await run
    assert events == ["ok", "undo migrate", "undo ok"]
    assert notices.messages(LATE) == [
        "[migrate] returned after it was cancelled (member 'bad' failed (fail_fast)); rolling "
        "it back too"]


# -- an abort: falyx stopped waiting, nothing is known to undo -------------------------------
async def test_after_an_abort_a_late_step_is_recorded_abandoned_and_not_undone(
    registry, notices: Notices
) -> None:
    events: list[str] = []
    late = Blocking()
    control = RollbackControl()
    token = ROLLBACK_CONTROL.set(control)
    try:
        run = asyncio.ensure_future(chain(*steps(events, late, timeout=0.5))())
    finally:
        ROLLBACK_CONTROL.reset(token)
    await notices.wait("thread_wait")
    control.abort()
    with pytest.raises((StepTimeoutError, asyncio.CancelledError)):
        await run
    late.gate.set()
    assert "undo migrate" not in events and notices.messages(LATE) == []
    assert len(notices.messages("thread_abandoned")) == 1
    # it returned after all, unwatched: still nothing undone
    assert await asyncio.to_thread(late.ended.wait, 5)
    assert "undo migrate" not in events


# -- real signals, through the CLI -----------------------------------------------------------
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_rolls_back_a_step_that_returned_after_it(
    tmp_path: Path, gate: Path, start: Callable[..., Cli], signum: int, code: int  # noqa: F811
) -> None:
    db = tmp_path / "h.db"
    cli = start("--history", str(db), "run", "MR", "--json", GATE=str(gate))
    cli.wait_for("migrate started")
    cli.signal(signum)
    cli.wait_for("waiting for it to return before rolling back", "err")
    release(gate)
    status, out, err = cli.finish()

    assert status == code
    assert out.splitlines()[:5] == ["created db", "migrate started", "migrate finished",
                                    "unmigrated", "dropped db"]
    reason = "Interrupted (SIGINT)" if signum == signal.SIGINT else "Terminated (SIGTERM)"
    assert (f"[migrate] returned after it was cancelled ({reason}); rolling it back too"
            in err)
    records = [(r["kind"], r["name"], r["status"]) for r in history(db)]
    assert ("Action", "migrate", "CANCELLED") in records
    assert records.index(("Rollback", "migrate", "OK")) < records.index(
        ("Rollback", "create", "OK"))


def test_a_step_that_raises_after_a_signal_is_not_rolled_back(
    gate: Path, start: Callable[..., Cli]  # noqa: F811
) -> None:
    cli = start("run", "MX", GATE=str(gate))
    cli.wait_for("migrate started")
    cli.signal(signal.SIGINT)
    cli.wait_for("waiting for it to return before rolling back", "err")
    release(gate)
    status, out, err = cli.finish()
    assert status == 130
    assert out.splitlines() == ["created db", "migrate started", "migrate finished",
                                "dropped db"]
    assert "rolling it back too" not in err
