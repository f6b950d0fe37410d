"""One SIGINT/SIGTERM handler for a whole invocation (DESIGN §2.4, §2.6).

`run KEY`, `run-all` and each command run from the menu install it once; every command
running under it is cancelled by the first signal and rolls back; its records say why
(`Interrupted (SIGINT)`, `Terminated (SIGTERM)`). A sync step's thread cannot be stopped: the
run first waits for it to return (`falyx.action.threads`). A second signal says what is under
way; a third aborts the rollbacks still running (their steps are recorded CANCELLED) and stops
waiting for threads (left running, recorded as abandoned). The exit code is the first
signal's: 130 for SIGINT, 143 for SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextvars
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from falyx.action.scopes import ROLLBACK_CONTROL, RollbackControl

__all__ = ["ROLLING_BACK", "SIGNAL_EXIT", "SignalScope", "current_scope", "signal_scope"]

SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}
SIGNAL_REASON = {signal.SIGINT: "Interrupted (SIGINT)", signal.SIGTERM: "Terminated (SIGTERM)"}
ROLLING_BACK = "Rolling back… (Ctrl-C again to abort the rollback)"
WAITING = ("Waiting for {steps} to return (a started thread or task cannot be stopped), then "
           "rolling back… "
           "(Ctrl-C again to stop waiting and abort the rollback)")
_SCOPE: contextvars.ContextVar[SignalScope | None] = contextvars.ContextVar(
    "falyx_signal_scope", default=None)


class SignalScope:
    """The tasks of one invocation and what the signals received so far did to them."""

    def __init__(self, notify: Callable[[str], None]) -> None:
        self.notify = notify
        self.code: int | None = None  # the exit code of the first signal
        self.count = 0
        self.control = RollbackControl()
        self._tasks: set[asyncio.Future[Any]] = set()

    def track(self, task: asyncio.Future[Any]) -> None:
        """Cancel `task` with the others on the first signal (at once if it came already)."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if self.code is not None:
            task.cancel()

    def on_signal(self, signum: int) -> None:
        self.count += 1
        if self.code is None:
            self.code = SIGNAL_EXIT[signum]
            self.control.reason = SIGNAL_REASON[signum]
        if self.count == 1:
            for task in list(self._tasks):
                task.cancel()
        elif self.count == 2:
            waiting = sorted(set(self.control.waits.values()))
            self.notify(WAITING.format(steps=", ".join(f"'{name}'" for name in waiting))
                        if waiting else ROLLING_BACK)
        else:
            self.control.abort()


def current_scope() -> SignalScope | None:
    """The scope installed for this invocation, if any."""
    return _SCOPE.get()


@contextmanager
def signal_scope(notify: Callable[[str], None]) -> Iterator[SignalScope]:
    """Install the handlers (in the main thread of a Unix loop) for the block's duration."""
    scope = SignalScope(notify)
    loop = asyncio.get_running_loop()
    installed = []
    for signum in SIGNAL_EXIT:
        try:
            loop.add_signal_handler(signum, scope.on_signal, signum)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread / Windows
            pass
    tokens = (_SCOPE.set(scope), ROLLBACK_CONTROL.set(scope.control))
    try:
        yield scope
    finally:
        ROLLBACK_CONTROL.reset(tokens[1])
        _SCOPE.reset(tokens[0])
        for signum in installed:
            loop.remove_signal_handler(signum)
        if signal.SIGINT in installed:
            signal.signal(signal.SIGINT, signal.default_int_handler)
