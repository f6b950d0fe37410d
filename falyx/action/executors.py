"""Executors for process steps: a spec string or any `concurrent.futures.Executor`."""

from __future__ import annotations

import atexit
import threading
from concurrent.futures import Executor, ThreadPoolExecutor

__all__ = ["check_executor", "resolve_executor", "shutdown_executors"]

_pools: dict[str, Executor] = {}
_lock = threading.Lock()


def _create(spec: str) -> Executor:
    kind, _, size = spec.partition(":")
    workers = int(size) if size else None  # validated by check_executor
    if kind == "thread":
        return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="falyx")
    # Imported here: multiprocessing costs ~10 ms of start-up that most apps never use.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # forkserver: fork() from a process that already runs threads (the loop's to_thread
    # workers) can deadlock; spawn works everywhere but starts slower.
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method))


def check_executor(spec: Executor | str | None) -> str | None:
    """The pool key of a spec string (None for an `Executor`); `ValueError` if it is invalid.

    Called when a step is defined, so a bad spec fails there instead of being retried.
    """
    if isinstance(spec, Executor):
        return None
    key = (spec or "process").strip().lower() if isinstance(spec, (str, type(None))) else ""
    kind, _, size = key.partition(":")
    if kind not in {"process", "thread"} or (size and not size.isdigit()):
        raise ValueError(
            f"unknown executor {spec!r}; use 'process', 'process:N', 'thread', 'thread:N' "
            "or a concurrent.futures.Executor"
        )
    if size and int(size) < 1:
        raise ValueError(f"executor {spec!r}: worker count must be at least 1")
    return key


def resolve_executor(spec: Executor | str | None) -> Executor:
    """`None` and `"process"` give the shared process pool; `"process:N"`, `"thread[:N]"`
    give shared pools of that shape; an `Executor` is used as it is."""
    key = check_executor(spec)
    if key is None:
        return spec  # type: ignore[return-value]
    with _lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = _create(key)
        return pool


def shutdown_executors() -> None:
    """Shut down every pool falyx created (runs at interpreter exit)."""
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown_executors)
