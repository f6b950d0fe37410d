"""Shared helpers for the engine tests.

The functions at the top are sent to worker processes, so they live at module level in
an importable module and this module imports only the standard library at load time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from falyx.history import ExecutionRegistry

# -- picklable functions for process steps ---------------------------------------------


def current_pid() -> int:
    """The id of the process this runs in."""
    return os.getpid()


def square(x: int) -> int:
    return x * x


def add(a: int, b: int = 0, *, scale: int = 1) -> int:
    return (a + b) * scale


def fail_with(message: str) -> None:
    raise ValueError(message)


def square_after(seconds: float, x: int) -> tuple[int, int]:
    """`x * x` after a short pause, with the worker's pid (to vary completion order)."""
    time.sleep(seconds)
    return x * x, os.getpid()


# -- an isolated run for hypothesis examples (function fixtures cannot be used there) ----


class RecordingSleep:
    """An injectable retry sleep that records the waits and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@contextmanager
def isolated_run() -> Iterator[tuple[ExecutionRegistry, RecordingSleep]]:
    """A fresh registry and instant sleep for every step run inside the block."""
    from falyx.action.options import RunOptions, using_options
    from falyx.history import ExecutionRegistry

    registry, sleep = ExecutionRegistry(), RecordingSleep()
    with using_options(RunOptions(registry=registry, sleep=sleep)):
        yield registry, sleep


def leaf_exceptions(exc: BaseException) -> list[BaseException]:
    """The non-group exceptions inside `exc`, depth first."""
    nested = getattr(exc, "exceptions", None)
    if nested is None:
        return [exc]
    return [leaf for inner in nested for leaf in leaf_exceptions(inner)]


def names(records: list[Any]) -> list[str]:
    return [r.name for r in records]
