"""Shell steps never leave processes behind: timeouts, cancellation, leftovers, checked in /proc."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from falyx import ShellAction
from falyx.action.process_group import Latch, has_live_members
from falyx.action.shell_template import quoted_command, shell_words
from falyx.errors import StepTimeoutError
from falyx.history import ExecutionRegistry

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads the process table")]

WAIT = 30.0  # seconds before a test gives up waiting for a marker
#: sh that (maybe) ignores SIGTERM, starts a grandchild, writes "CHILD GRANDCHILD" to $1, waits.
HOLD = '{trap} sleep 300 & echo "$$ $!" > "$1.tmp"; mv "$1.tmp" "$1"; echo holding; wait'


@pytest.fixture(autouse=True)
def _asyncio_reports_nothing(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """asyncio logs a child reaped behind its back ("Unknown child process") and the like."""
    caplog.set_level(logging.WARNING, logger="asyncio")
    yield
    reports = [r.getMessage() for r in caplog.records if r.name == "asyncio"]
    assert reports == []


def hold_script(ignores_term: bool) -> str:
    return HOLD.format(trap="trap '' TERM;" if ignores_term else "")


class Proc:
    """One process seen in /proc, told apart from a later process reusing its id."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        stat = self._stat()
        assert stat is not None and stat[0] not in "ZX", f"process {pid} is not running"
        self.start = stat[2]

    def _stat(self) -> tuple[str, int, int] | None:
        try:
            data = Path(f"/proc/{self.pid}/stat").read_bytes()
        except (FileNotFoundError, ProcessLookupError):  # gone, or reaped while read
            return None
        fields = data.rsplit(b")", 1)[1].split()
        return fields[0].decode(), int(fields[1]), int(fields[19])  # state, ppid, starttime

    def running(self) -> bool:
        stat = self._stat()
        return stat is not None and stat[2] == self.start and stat[0] not in "ZX"

    def present(self) -> bool:
        """In the process table at all, zombie included (this process was not reaped)."""
        stat = self._stat()
        return stat is not None and stat[2] == self.start


async def pids_from(path: Path, task: asyncio.Future[object]) -> tuple[Proc, Proc]:
    """The child and grandchild the hold script wrote to `path`, once it has."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while not path.exists():
        assert not task.done(), f"the step ended before writing {path}: {task}"
        assert asyncio.get_running_loop().time() < deadline, f"no {path} within {WAIT}s"
        await asyncio.sleep(0.005)
    child, grandchild = map(int, path.read_text().split())
    return Proc(child), Proc(grandchild)


# -- cancellation and timeout ---------------------------------------------------------------------
@pytest.mark.parametrize("ignores_term", [False, True], ids=["obeys-term", "ignores-term"])
async def test_cancelling_a_step_stops_its_child_and_grandchild_and_reaps_the_child(
    registry: ExecutionRegistry, tmp_path: Path, ignores_term: bool
) -> None:
    step = ShellAction("hold", ["sh", "-c", hold_script(ignores_term), "sh", str(tmp_path / "p")],
                       kill_grace=0.2)
    task = asyncio.ensure_future(step())
    child, grandchild = await pids_from(tmp_path / "p", task)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert not child.present(), "the child was left as a zombie or still runs"
    assert not grandchild.running()
    assert registry.latest().status == "CANCELLED"


async def test_a_timeout_stops_a_group_that_ignores_sigterm(
    registry: ExecutionRegistry, tmp_path: Path
) -> None:
    step = ShellAction("hold", ["sh", "-c", hold_script(True), "sh", str(tmp_path / "p")],
                       timeout=1.0, kill_grace=0.2)

    with pytest.raises(StepTimeoutError, match=r"step 'hold' timed out after 1s"):
        await step()

    assert (tmp_path / "p").exists(), "the machine was too slow to start sh within the timeout"
    child_pid, grandchild_pid = map(int, (tmp_path / "p").read_text().split())
    assert not Path(f"/proc/{child_pid}").exists()
    assert _not_running(grandchild_pid)


def _not_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):  # gone, or reaped while read
        return True
    return state in (b"Z", b"X")  # killed; its new parent (init) has not reaped it yet


async def test_cancelling_while_the_program_starts_leaves_nothing_running(
    registry: ExecutionRegistry, tmp_path: Path
) -> None:
    token = f"{os.getpid()}.{id(tmp_path) % 997}"
    task = asyncio.ensure_future(ShellAction("s", ["sleep", token], kill_grace=0.2)())
    await asyncio.sleep(0)  # one loop turn: the step is now inside its start-up

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert _running_with_argument(token) == []


def _running_with_argument(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and token.encode() in (entry / "cmdline").read_bytes().split(
                    b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


# -- a normal exit that leaves processes behind ------------------------------------------------
@pytest.mark.parametrize("ignores_term", [False, True], ids=["obeys-term", "ignores-term"])
async def test_processes_left_in_the_group_after_a_normal_exit_are_stopped(
    registry: ExecutionRegistry, tmp_path: Path, falyx_log: pytest.LogCaptureFixture,
    ignores_term: bool
) -> None:
    trap = "trap '' TERM; " if ignores_term else ""
    # the grandchild also holds the stdout pipe: waiting for its end alone would hang
    script = trap + 'sleep 300 & echo $! > "$1"; echo started'
    argv = ["sh", "-c", script, "sh", str(tmp_path / "p")]
    step = ShellAction("serve", argv, kill_grace=0.2)

    assert await step() == "started"

    assert _not_running(int((tmp_path / "p").read_text()))
    warnings = [r.getMessage() for r in falyx_log.records if r.levelno == logging.WARNING]
    shown = quoted_command(shell_words(argv))  # as in the step's error messages
    assert warnings == [f"[serve] {shown} exited and left processes running in its group; "
                        "stopping them."]


async def test_a_process_that_left_the_group_cannot_hold_the_step_open(
    registry: ExecutionRegistry, tmp_path: Path
) -> None:
    """`setsid` takes a process out of reach; the step still ends, after the drain bound."""
    script = 'setsid sleep 300 & echo $! > "$1"; echo started'
    step = ShellAction("s", ["sh", "-c", script, "sh", str(tmp_path / "p")], kill_grace=0.1)

    try:
        assert await asyncio.wait_for(step(), WAIT) == "started"
    finally:
        escaped = int((tmp_path / "p").read_text())
        os.kill(escaped, signal.SIGKILL)  # ours to clean up: the step could not


def test_a_group_whose_only_member_is_a_zombie_counts_as_empty() -> None:
    """Zombies wait for a parent to reap them; they run nothing and are not waited for."""
    proc = subprocess.Popen(["true"], start_new_session=True)
    try:
        for _ in range(int(WAIT * 1000)):  # until it has exited, unreaped (no sleep: a spin)
            if _not_running(proc.pid):
                break
            os.sched_yield()
        os.killpg(proc.pid, 0)  # the group still exists: the zombie is in it

        assert not has_live_members(proc.pid)
    finally:
        proc.wait()
    assert not has_live_members(proc.pid)


# -- the latch the exit and end-of-output are signalled with ---------------------------------------
async def test_a_cancelled_wait_leaves_the_latch_usable_and_a_set_wakes_every_waiter() -> None:
    latch = Latch()
    cancelled = asyncio.ensure_future(latch.wait())
    waiters = [asyncio.ensure_future(latch.wait()) for _ in range(3)]
    await asyncio.sleep(0)  # every wait is now parked on the latch

    cancelled.cancel()
    await asyncio.wait([cancelled])
    latch.set()

    assert await asyncio.gather(*waiters) == [True, True, True]
    assert cancelled.cancelled() and latch.is_set() and await latch.wait() is True


async def test_a_wait_with_a_timeout_says_whether_the_latch_was_set() -> None:
    latch = Latch()

    assert await latch.wait(0.001) is False
    asyncio.get_running_loop().call_soon(latch.set)
    assert await latch.wait(WAIT) is True
