"""`LocalProcessPool`: the shared local process pool, which heals and whose tasks can be stopped.

A `ProcessPoolExecutor` whose worker died is broken for good; this wrapper replaces it on
the next submission, so a retry of the failed step and every later step get a working pool.
Its tasks can be stopped (DESIGN §2.14): `interrupt` raises `TaskInterrupted` in the worker
running a task (the worker survives), `kill` ends that worker with SIGKILL (the pool is
then replaced on next use). See `falyx.action.worker` for the worker's side.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pickle
import signal
import sys
import threading
from concurrent.futures import BrokenExecutor, Executor, Future
from typing import Any

from falyx.action import worker
from falyx.errors import ExecutorError

__all__ = ["LocalProcessPool"]


class _Generation:
    """One `ProcessPoolExecutor` and the shared arrays its workers write to."""

    def __init__(self, workers: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # forkserver: fork() from a process that already runs threads (the loop's to_thread
        # workers) can deadlock; spawn works everywhere but starts slower.
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else (
            "spawn")
        context = multiprocessing.get_context(method)
        self.pids = context.RawArray("q", workers)
        self.tokens = context.RawArray("q", workers)
        self.cancel = context.RawArray("q", workers)
        # Tokens of tasks cancelled before they reached a worker; at most 2 x workers + 1 are
        # past the point where `Future.cancel()` still works, so this ring never wraps early.
        self.cancelled = context.RawArray("q", 4 * workers + 4)
        self._ring = itertools.count()
        counter = context.Value("q", 0)
        self.executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=worker.init_worker,
            initargs=(self.pids, self.tokens, self.cancel, self.cancelled, counter),
        )

    def forbid(self, token: int) -> None:
        """Mark task `token` as cancelled for the worker that would start it later."""
        self.cancelled[next(self._ring) % len(self.cancelled)] = token

    def worker_of(self, token: int) -> int | None:
        """The pid of the worker running task `token`, if one is."""
        for slot, running in enumerate(self.tokens):
            if running == token:
                return self.pids[slot] or None
        return None


class LocalProcessPool(Executor):
    """A process pool of `workers` processes (default: the CPU count), created lazily."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._lock = threading.Lock()
        self._generation: _Generation | None = None
        self._tokens = itertools.count(1)
        self._owner: dict[int, _Generation] = {}
        # Replaced generations, held until none of their tasks is pending, then let go from a
        # submitting thread: if the last reference went in a future's done-callback, the
        # executor's weakref callback would take the shutdown lock its manager thread already
        # holds there (a deadlock at exit on CPython 3.12.1).
        self._retired: list[_Generation] = []

    def submit_payload(self, payload: bytes) -> Future[Any]:
        """Run a pickled `(fn, args, kwargs)`; the future carries the task's `falyx_token`."""
        token = next(self._tokens)
        with self._lock:
            generation = self._current()
            try:
                future = generation.executor.submit(worker.run_task, token, payload)
            except BrokenExecutor:  # a worker died since the last submission: start afresh
                self._retire(generation)
                generation = self._current()
                future = generation.executor.submit(worker.run_task, token, payload)
        future.falyx_token = token  # type: ignore[attr-defined]
        self._owner[token] = generation
        future.add_done_callback(lambda _: self._owner.pop(token, None))
        return future

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self.submit_payload(pickle.dumps((fn, args, kwargs)))

    def interrupt(self, future: Future[Any]) -> int | None:
        """Stop `future`'s task: a worker that starts it later skips it, and the worker
        running it now is asked to stop it; that worker's pid, or None."""
        token = getattr(future, "falyx_token", 0)
        generation = self._owner.get(token)
        if generation is None:
            return None
        generation.forbid(token)
        pid = generation.worker_of(token)
        if pid is None or worker.INTERRUPT is None:
            return None
        for slot, running in enumerate(generation.tokens):
            if running == token:
                generation.cancel[slot] = token
        _send(pid, worker.INTERRUPT)
        return pid

    def kill(self, future: Future[Any], pid: int | None) -> None:
        """End the worker running `future`'s task; the pool is replaced on next use."""
        token = getattr(future, "falyx_token", 0)
        generation = self._owner.get(token)
        pid = pid or (generation.worker_of(token) if generation else None)
        if pid is not None:
            _send(pid, getattr(signal, "SIGKILL", signal.SIGTERM))
            with self._lock:
                if self._generation is generation:
                    self._retire(generation)
            if generation is not None:  # its other workers end once their tasks do
                generation.executor.shutdown(wait=False)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            generation, self._generation = self._generation, None
        if generation is not None:
            generation.executor.shutdown(wait=wait, cancel_futures=cancel_futures)

    def _retire(self, generation: _Generation) -> None:
        """Stop using `generation` (the lock is held); keep it while its tasks are pending."""
        self._generation = None
        self._retired.append(generation)

    def _current(self) -> _Generation:
        if self._retired:  # let go of replaced generations whose tasks have all ended
            pending = {id(owner) for owner in list(self._owner.values())}
            self._retired = [g for g in self._retired if id(g) in pending]
        if self._generation is None:
            check_main_guard()
            self._generation = _Generation(self.workers)
        return self._generation


def _send(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it has just finished or died
        os.kill(pid, signum)


def check_main_guard() -> None:
    """Refuse to start workers while the main script's top level is still running the app.

    Workers import the main script (as `__mp_main__`); without an `if __name__ ==
    "__main__":` guard they would run the app again. Raises `ExecutorError` naming the line.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not path or not str(path).endswith(".py"):
        return
    frame = sys._getframe(1)
    while frame is not None and not (
        frame.f_code.co_name == "<module>" and frame.f_globals is vars(main)
    ):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None or frame.f_lineno in _guarded_lines(str(path)):
        return
    name = os.path.basename(path)
    raise ExecutorError(
        f"{name}:{frame.f_lineno} runs process steps at import time; add "
        f'`if __name__ == "__main__":` before it (worker processes import {name})'
    )


def _guarded_lines(path: str) -> set[int]:
    """The line numbers inside top-level `if __name__ == "__main__":` blocks of a file."""
    import ast  # only when the first pool starts

    try:
        with open(path, encoding="utf-8") as file:
            tree = ast.parse(file.read(), path)
    except (OSError, SyntaxError, ValueError):
        return set()
    lines: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test) and (
            "__name__" in ast.unparse(node.test)
        ):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines
