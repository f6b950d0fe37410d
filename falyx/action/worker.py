"""What runs inside a worker process of falyx's local process pool (DESIGN §2.14).

Each worker ignores SIGINT (a Ctrl-C at the terminal reaches the whole process group; the
driver decides what to cancel) and owns one slot in three shared-memory arrays: its pid, the
token of the task it is running (0 when idle) and the token the driver asked to interrupt.
The driver interrupts a task by writing its token into `cancel` and sending `INTERRUPT`; the
handler raises `TaskInterrupted` only if that task is still the one running, so a late
signal never hits the next task. A task cancelled while still queued has its token in the
shared `cancelled` ring, which a worker checks before it starts a task. Only the standard
library is imported at module level.
"""

from __future__ import annotations

import os
import pickle
import signal
import traceback
from typing import Any

__all__ = ["INTERRUPT", "TaskInterrupted", "init_worker", "run_task"]

#: The signal the driver sends to interrupt the task a worker is running (None where the
#: platform has no SIGUSR1: a cancelled task's worker is then killed after kill_grace).
INTERRUPT = getattr(signal, "SIGUSR1", None)

_slot = -1
_tokens: Any = None
_cancel: Any = None
_cancelled: Any = ()


class TaskInterrupted(BaseException):
    """Raised inside a worker's task when the driver cancelled it (a BaseException, so a
    task's own `except Exception` cannot swallow it)."""


def init_worker(pids: Any, tokens: Any, cancel: Any, cancelled: Any, counter: Any) -> None:
    """Pool initializer: take a slot, ignore SIGINT, listen for `INTERRUPT`."""
    global _slot, _tokens, _cancel, _cancelled
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with counter.get_lock():
        _slot = counter.value % len(pids)
        counter.value += 1
    _tokens, _cancel, _cancelled = tokens, cancel, cancelled
    tokens[_slot] = 0
    pids[_slot] = os.getpid()
    if INTERRUPT is not None:
        signal.signal(INTERRUPT, _on_interrupt)


def _on_interrupt(signum: int, frame: Any) -> None:
    running = _tokens[_slot]
    if running and _cancel[_slot] == running:
        raise TaskInterrupted(f"task {running} was cancelled by the driver")


def run_task(token: int, payload: bytes) -> Any:
    """Unpickle `(fn, args, kwargs)` and call it as task `token`.

    An exception that would not survive the trip back to the driver (pickling it fails, or
    unpickling it would) is replaced by a `RemoteError` with its type, message and traceback.
    """
    try:
        fn, args, kwargs = pickle.loads(payload)
    except Exception as exc:
        from falyx.errors import NotPicklableError

        raise NotPicklableError(
            f"a worker process could not load the task ({type(exc).__name__}: {exc}); "
            "its function must be importable by module name in a fresh interpreter"
        ) from None
    _tokens[_slot] = token  # before the check: the driver looks here, then writes the ring
    try:
        if token in _cancelled:
            raise TaskInterrupted(f"task {token} was cancelled before it started")
        return fn(*args, **kwargs)
    except Exception as exc:
        raise portable(exc) from None
    finally:
        _tokens[_slot] = 0


def portable(exc: BaseException) -> BaseException:
    """`exc` if it survives a pickle round trip, else a `RemoteError` describing it."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        from falyx.errors import RemoteError

        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return RemoteError(type(exc).__qualname__, str(exc), text)
