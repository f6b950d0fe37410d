"""`ExecutionRegistry`: every step execution, in a bounded in-memory ring.

A run's records are buffered until its top-level step finishes, then handed to the optional
persistent `HistoryStore` in one call (one transaction), off the event loop: one writer thread
per process writes runs in the order they finished. The step that ends a run awaits its write
(`drain`) without blocking the loop, and the interpreter waits for pending writes at exit.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Protocol

from falyx.context import ExecutionContext

if TYPE_CHECKING:  # asyncio and concurrent.futures load when a run is written
    import asyncio
    from concurrent.futures import Future

__all__ = ["ExecutionRegistry", "HistoryStore", "default_registry"]

logger = logging.getLogger("falyx")


class HistoryStore(Protocol):
    """Where finished runs are persisted (the SQLite store, or a user's own).

    `write_run` is called from falyx's writer thread, one run at a time, in finishing order.
    """

    def write_run(self, records: Sequence[ExecutionContext]) -> None: ...


class ExecutionRegistry:
    """Records of step executions, newest last, at most `limit` kept in memory."""

    def __init__(self, limit: int = 10_000, store: HistoryStore | None = None) -> None:
        if limit < 1:
            raise ValueError(f"history limit must be at least 1, got {limit}")
        self.limit = limit
        self.store = store
        #: Top-level runs recorded (each command run counts once), ring limit and `clear` aside.
        self.run_count = 0
        self._ring: deque[ExecutionContext] = deque(maxlen=limit)
        self._next_index = 0
        self._pending: dict[str, list[ExecutionContext]] = {}
        self._last_write: Future[None] | None = None
        self._write_pid = 0  # a forked child must not wait for its parent's writes

    def record(self, ctx: ExecutionContext) -> None:
        """Add a finished context; hand its run to the store when the run is complete."""
        ctx.index = self._next_index
        self._next_index += 1
        self._ring.append(ctx)
        if ctx.parent is None:
            self.run_count += 1
        if self.store is None:
            return
        run = self._pending.setdefault(ctx.run_id, [])
        run.append(ctx)
        if ctx.parent is None:
            del self._pending[ctx.run_id]
            store = self.store
            self._last_write = _WRITER.submit(lambda: self._persist(store, run))
            self._write_pid = os.getpid()

    def _persist(self, store: HistoryStore, run: list[ExecutionContext]) -> None:
        try:
            store.write_run(run)
        except Exception as exc:  # the store degrades itself; this is the last guard
            if self.store is store:
                self.store = None
                logger.warning("history could not be written (%s: %s); keeping it in memory "
                               "only", type(exc).__name__, exc)

    @property
    def writing(self) -> bool:
        """True while a finished run is still being written to the store."""
        return (self._last_write is not None and not self._last_write.done()
                and self._write_pid == os.getpid())

    async def drain(self) -> None:
        """Wait, without blocking the loop, until every run recorded so far is written."""
        if self.writing:
            await _awaitable(self._last_write)  # type: ignore[arg-type]

    def flush(self, timeout: float | None = None) -> None:
        """Block until every run recorded so far is written (for threads and sync code)."""
        if self.writing:
            self._last_write.result(timeout)  # type: ignore[union-attr]

    def records(
        self,
        *,
        name: str | None = None,
        status: str | None = None,
        run_id: str | None = None,
        command: str | None = None,
    ) -> list[ExecutionContext]:
        """Records in order, filtered by name, status (OK/ERROR/CANCELLED), run or command
        (its label in any case; `*` matches any text: `O.*` is every command of submenu O)."""
        status = status.upper() if status else None
        return [
            ctx for ctx in self._ring
            if (name is None or ctx.name == name)
            and (status is None or ctx.status == status)
            and (run_id is None or ctx.run_id == run_id)
            and (command is None or _label_matches(ctx.command, command))
        ]

    def get(self, index: int) -> ExecutionContext:
        """The record with this index (`IndexError` if unknown or dropped from the ring)."""
        first = self._next_index - len(self._ring)
        if not first <= index < self._next_index:
            raise IndexError(f"no history record with index {index}")
        return self._ring[index - first]

    def latest(self) -> ExecutionContext | None:
        """The newest record, if any."""
        return self._ring[-1] if self._ring else None

    def clear(self) -> None:
        """Forget every in-memory record (indices keep counting up)."""
        self._ring.clear()
        self._pending.clear()

    def __len__(self) -> int:
        return len(self._ring)

    def __iter__(self) -> Iterator[ExecutionContext]:
        return iter(list(self._ring))


def _label_matches(label: str | None, pattern: str) -> bool:
    if "*" not in pattern:
        return (label or "").upper() == pattern.upper()
    regex = ".*".join(map(re.escape, pattern.upper().split("*")))
    return re.fullmatch(regex, (label or "").upper(), flags=re.DOTALL) is not None


class _Writer:
    """One daemon thread running write jobs in order; started on first use, drained at exit."""

    def __init__(self) -> None:
        self._reset()
        # Drain before the interpreter's atexit hooks, which close the SQLite connections the
        # thread may be using (closing one mid-write crashes). The stdlib's own thread pools
        # use this hook for the same reason; plain atexit is the fallback.
        getattr(threading, "_register_atexit", atexit.register)(self.drain)

    def _reset(self) -> None:  # also in a forked child: the thread did not come along
        self._jobs: queue.SimpleQueue[tuple[Callable[[], None], Future[None]]] = (
            queue.SimpleQueue())
        self._thread: threading.Thread | None = None
        self._last: Future[None] | None = None
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> Future[None]:
        from concurrent.futures import Future

        done: Future[None] = Future()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                thread = threading.Thread(target=self._work, name="falyx-history-writer",
                                          daemon=True)
                try:
                    thread.start()
                except RuntimeError:  # the interpreter is shutting down: no new threads
                    thread = None
                self._thread = thread
            if self._thread is not None:
                self._jobs.put((job, done))
                self._last = done
                return done
        job()  # no thread to hand it to: write here and now
        done.set_result(None)
        return done

    def _work(self) -> None:
        while True:
            job, done = self._jobs.get()
            try:
                job()
            finally:  # a job never raises (it guards itself); wake the waiters regardless
                done.set_result(None)

    def drain(self) -> None:
        """Wait for every job submitted so far (at exit: runs finished on Ctrl-C included)."""
        last = self._last
        if last is not None:
            with suppress(KeyboardInterrupt):  # Ctrl-C again while exiting: stop waiting
                last.result()


_WRITER = _Writer()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_WRITER._reset)


def _awaitable(done: Future[None]) -> asyncio.Future[None]:
    """A loop future set when `done` is; cancelling it never cancels the write.

    (`asyncio.wrap_future` would cancel the write, and fail if the loop closed before it ends.)
    """
    import asyncio

    loop = asyncio.get_running_loop()
    waiter = loop.create_future()

    def wake(_: Future[None]) -> None:
        with suppress(RuntimeError):  # the loop has closed: nobody waits any more
            loop.call_soon_threadsafe(_resolve, waiter)

    done.add_done_callback(wake)
    return waiter


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


_default: list[ExecutionRegistry] = []


def default_registry() -> ExecutionRegistry:
    """The process-wide registry used by steps run outside an app."""
    if not _default:
        _default.append(ExecutionRegistry())
    return _default[0]
