"""Stopping a shell step's process group: SIGTERM, a grace period, SIGKILL (DESIGN §2.11).

A shell step's child starts a session of its own, so its process id is also the id of a
process group holding everything it spawns (unless a descendant leaves with `setsid`).
Signalling the group reaches grandchildren that a signal to the child alone would orphan.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal

__all__ = ["Latch", "has_live_members", "signal_group", "stop_group"]

logger = logging.getLogger("falyx")
_PROC = "/proc"
_FIRST_POLL, _MAX_POLL = 0.001, 0.05  # seconds between checks for the group to empty
_KILL_WAIT = 2.0  # seconds for SIGKILLed members to be gone (they cannot refuse)


class Latch:
    """A one-shot event whose waits may time out or be cancelled without affecting it.

    Awaiting a bare future instead would let a cancellation cancel the future itself. A wait
    costs no task and no extra turn of the event loop.
    """

    __slots__ = ("_is_set", "_waiters")

    def __init__(self) -> None:
        self._is_set = False
        self._waiters: list[asyncio.Future[None]] = []

    def set(self) -> None:
        """Set it for good and wake every waiter."""
        if not self._is_set:
            self._is_set = True
            for waiter in self._waiters:
                _release(waiter)
            self._waiters.clear()

    def is_set(self) -> bool:
        """Whether it has been set."""
        return self._is_set

    async def wait(self, timeout: float | None = None) -> bool:
        """Wait until set, or `timeout` seconds; returns whether it is set."""
        if self._is_set:
            return True
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiters.append(waiter)
        timer = None if timeout is None else loop.call_later(timeout, _release, waiter)
        try:
            await waiter
        finally:
            if timer is not None:
                timer.cancel()
            if waiter in self._waiters:
                self._waiters.remove(waiter)
        return self._is_set


def _release(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def signal_group(pgid: int, signum: int) -> None:
    """Send `signum` to every process in group `pgid`; an empty group is not an error."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass
    except PermissionError:  # a member changed user (setuid): nothing more we may do
        logger.debug("no permission to signal process group %d", pgid)


def has_live_members(pgid: int) -> bool:
    """Whether group `pgid` still holds a running (not zombie) process.

    On Linux the process table is read, so that zombies waiting for their (re)parent to reap
    them do not count; elsewhere any member, zombie or not, counts.
    """
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _running_in_group(pgid) if os.path.isdir(_PROC) else True


def _running_in_group(pgid: int) -> bool:
    with os.scandir(_PROC) as entries:
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                with open(f"{_PROC}/{entry.name}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
            except (OSError, IndexError):  # exited meanwhile
                continue
            # after the command name: state, ppid, pgrp, ...
            if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
                return True
    return False


async def stop_group(pgid: int, exited: Latch, grace: float) -> None:
    """Stop group `pgid`, whose leader sets `exited` once reaped; no process is left.

    SIGTERM (and SIGCONT, so a stopped member can act on it) to the group; after `grace`
    seconds, SIGKILL to whatever still runs; then wait for the leader to be reaped and the
    group to empty. Run it shielded: it must finish even if the caller is cancelled again.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    signal_group(pgid, signal.SIGTERM)
    signal_group(pgid, signal.SIGCONT)
    if await exited.wait(grace) and await _emptied(pgid, deadline):  # and what the leader left
        return
    logger.debug("process group %d outlived its %.1fs grace: SIGKILL", pgid, grace)
    signal_group(pgid, signal.SIGKILL)
    await exited.wait()
    await _emptied(pgid, loop.time() + _KILL_WAIT)


async def _emptied(pgid: int, deadline: float) -> bool:
    """Wait until group `pgid` has no running member, or `deadline` (loop time) passes."""
    loop = asyncio.get_running_loop()
    pause = _FIRST_POLL
    while has_live_members(pgid):
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(min(pause, max(0.0, deadline - loop.time())))
        pause = min(pause * 2, _MAX_POLL)
    return True
