"""Helpers for the tests of sync steps in threads: blocked functions and log notices.

Blocked functions wait on `threading.Event`s the test sets; the tests wait on events, on
log records and on futures, never on a sleep.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

WAIT = 10  # seconds any single wait may take before the test fails


class Notices(logging.Handler):
    """The `falyx` log records, with an event to await per record `event`."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []
        self.seen: dict[str, asyncio.Event] = {}

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.event(getattr(record, "event", "")).set()

    def event(self, name: str) -> asyncio.Event:
        return self.seen.setdefault(name, asyncio.Event())

    async def wait(self, name: str) -> None:
        await asyncio.wait_for(self.event(name).wait(), WAIT)

    def messages(self, name: str) -> list[str]:
        return [r.getMessage() for r in self.records if getattr(r, "event", "") == name]


@contextmanager
def watching() -> Iterator[Notices]:
    """The `falyx` logger at INFO, its records collected, for the duration of the block."""
    logger = logging.getLogger("falyx")
    handler, level = Notices(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


class Blocking:
    """A sync function that blocks until `gate` is set, then returns or raises `error`."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.started, self.gate, self.ended = (threading.Event(), threading.Event(),
                                               threading.Event())
        self.error = error
        self.calls = 0

    def __call__(self, *_: Any, **__: Any) -> str:
        self.calls += 1
        self.started.set()
        try:
            assert self.gate.wait(WAIT), "never released"
            if self.error is not None:
                raise self.error
            return "returned"
        finally:
            self.ended.set()

    async def wait_started(self) -> None:
        assert await asyncio.to_thread(self.started.wait, WAIT)


def wait_until(condition: Any) -> None:
    """Block until `condition()` holds; the condition is another thread's doing."""
    done = threading.Event()
    for _ in range(WAIT * 1000):
        if condition():
            return
        done.wait(0.001)
    raise AssertionError("condition never held")
