"""Executors for process steps: a spec string or any `concurrent.futures.Executor` (§2.14).

| spec | executor |
|---|---|
| `process`, `process:N` | the shared `LocalProcessPool` (forkserver), N workers |
| `thread`, `thread:N` | a shared thread pool |
| `dask`, `dask:N` | an in-process Dask `LocalCluster` with N worker processes (lazily) |
| `dask://HOST:PORT`, `tcp://HOST:PORT` | an existing Dask scheduler |

One executor per spec per process, created on first use and shut down at exit. The default
for steps that name none is `--executor` / `FALYX_EXECUTOR`, else `process`.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import contextvars
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from falyx.errors import ExecutorError

__all__ = [
    "DASK_MISSING",
    "ExecutorSpec",
    "check_available",
    "check_executor",
    "default_executor",
    "needs_pickle_check",
    "obtain_executor",
    "parse_executor",
    "resolve_executor",
    "set_default_executor",
    "shutdown_executors",
    "using_executor",
]

ENV = "FALYX_EXECUTOR"
DASK_MISSING = "Dask executors need the dask extra: pip install 'falyx[dask]'"
#: For a spec string (the CLI, FALYX_EXECUTOR, a config file): the strings only.
_HINT = "use 'process', 'process:N', 'thread', 'thread:N', 'dask', 'dask:N' or 'dask://HOST:PORT'"
#: For `executor=` in code, which may also be an object.
_OBJECT_HINT = ("use 'process', 'process:N', 'thread', 'thread:N', 'dask', 'dask:N', "
                "'dask://HOST:PORT' or a concurrent.futures.Executor")
_pools: dict[str, Executor] = {}
_lock = threading.Lock()
_DEFAULT: contextvars.ContextVar[Executor | str | None] = contextvars.ContextVar(
    "falyx_default_executor", default=None)


@dataclass(frozen=True, slots=True)
class ExecutorSpec:
    """A parsed spec: `kind` is process, thread, dask or scheduler (an address)."""

    kind: str
    workers: int | None = None
    address: str | None = None

    @property
    def key(self) -> str:
        if self.address:
            return self.address
        return self.kind + (f":{self.workers}" if self.workers else "")


def parse_executor(spec: str) -> ExecutorSpec:
    """Parse a spec string; `ExecutorError` (a `ValueError`) naming it if it is invalid."""
    text = spec.strip()
    scheme, sep, rest = text.partition("://")
    if sep:
        if scheme.lower() not in {"dask", "tcp"}:
            raise ExecutorError(f"unknown executor {spec!r}; {_HINT}")
        host, colon, port = rest.rstrip("/").rpartition(":")
        if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ExecutorError(
                f"executor {spec!r}: a Dask scheduler address is dask://HOST:PORT")
        return ExecutorSpec("scheduler", address=f"tcp://{host}:{port}")
    kind, colon, size = text.lower().partition(":")
    if kind not in {"process", "thread", "dask"} or (colon and not size.isdigit()):
        raise ExecutorError(f"unknown executor {spec!r}; {_HINT}")
    if colon and int(size) < 1:
        raise ExecutorError(f"executor {spec!r}: the worker count must be at least 1")
    return ExecutorSpec(kind, int(size) if colon else None)


def check_available(spec: str) -> None:
    """Parse `spec` and make sure what it needs is installed (without importing it).

    The CLI calls this for `--executor`, so a Dask spec without the extra fails before
    anything runs. Raises `ExecutorError`.
    """
    import importlib.util

    if parse_executor(spec).kind in {"dask", "scheduler"} and (
        importlib.util.find_spec("distributed") is None
    ):
        raise ExecutorError(DASK_MISSING)


def check_executor(spec: Executor | str | None) -> ExecutorSpec | None:
    """The parsed spec (None for an `Executor` or the default); raises `ExecutorError`.

    Called when a step is defined, so a bad spec fails there instead of being retried.
    """
    if spec is None or isinstance(spec, Executor):
        return None
    if not isinstance(spec, str):
        raise ExecutorError(f"unknown executor {spec!r}; {_OBJECT_HINT}")
    return parse_executor(spec)


def default_executor() -> Executor | str:
    """What steps without an `executor=` use: `--executor`, `FALYX_EXECUTOR`, or `process`."""
    return _DEFAULT.get() or os.environ.get(ENV) or "process"


@contextmanager
def using_executor(spec: Executor | str | None) -> Iterator[None]:
    """Within the block (and the tasks it starts), `spec` is the default executor."""
    check_executor(spec)
    token = _DEFAULT.set(spec)
    try:
        yield
    finally:
        _DEFAULT.reset(token)


def set_default_executor(spec: Executor | str | None) -> None:
    """Make `spec` the default for the rest of this task and the tasks it starts (the CLI's
    `--executor`); `ExecutorError` if it is not a valid spec."""
    check_executor(spec)
    _DEFAULT.set(spec)


def resolve_executor(spec: Executor | str | None) -> Executor:
    """The executor for a spec (None: the default); created on first use, then shared.

    Raises `ExecutorError` for a bad spec, a Dask spec without the `dask` extra, or a
    scheduler that cannot be reached (this can block for the connect timeout).
    """
    if spec is None:
        spec = default_executor()
    if isinstance(spec, Executor):
        return spec
    parsed = parse_executor(spec)
    with _lock:
        pool = _pools.get(parsed.key)
        if pool is None:
            pool = _pools[parsed.key] = _create(parsed)
        return pool


async def obtain_executor(spec: Executor | str | None) -> Executor:
    """`resolve_executor` without blocking the loop when a Dask cluster must start first."""
    if spec is None:
        spec = default_executor()
    if isinstance(spec, Executor):
        return spec
    parsed = parse_executor(spec)
    pool = _pools.get(parsed.key)
    if pool is not None:
        return pool
    if parsed.kind in {"dask", "scheduler"}:
        return await asyncio.to_thread(resolve_executor, spec)
    return resolve_executor(spec)


def needs_pickle_check(executor: Executor) -> bool:
    """Whether calls must pass the stdlib-pickle check: not for threads, nor for Dask (which
    pickles with cloudpickle, so lambdas and closures work there)."""
    from falyx.action.threads import StepThreadPool

    if isinstance(executor, (ThreadPoolExecutor, StepThreadPool)):
        return False
    return not (getattr(executor, "cloudpickle", False)
                or type(executor).__module__.split(".")[0] == "distributed")


def _create(spec: ExecutorSpec) -> Executor:
    if spec.kind == "thread":
        from falyx.action.threads import StepThreadPool  # daemon threads: exit never waits

        return StepThreadPool(max_workers=spec.workers or min(32, (os.cpu_count() or 1) + 4),
                              prefix="falyx-thread")
    if spec.kind == "process":
        from falyx.action.pool import LocalProcessPool

        return LocalProcessPool(spec.workers)
    from falyx.action import dask_executor

    return dask_executor.connect(spec.address, spec.workers)


def shutdown_executors() -> None:
    """Shut down every executor falyx created (runs at interpreter exit)."""
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


def _shutdown_quietly() -> None:
    with contextlib.suppress(Exception):  # nothing to report to at interpreter exit
        shutdown_executors()


atexit.register(_shutdown_quietly)
