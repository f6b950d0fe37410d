"""What a cancellation was, for the records: its reason and the step threads it met.

A run is cancelled by a signal (the frontend sets `RollbackControl.reason`), by a timeout
(`DEADLINES`), or from outside. A sync step's thread cannot be stopped, so falyx waits for it
(`falyx.action.threads`) and notes on the `CancelledError` how the thread ended: it returned,
or an abort (the third Ctrl-C) left it running. `explain_cancel` turns this into the error
text of a CANCELLED record (`Interrupted (SIGINT)`, `'release' timed out after 5s`, `...; step
'migrate' abandoned while running in its thread`). DESIGN §2.4, §2.8.
"""

from __future__ import annotations

from dataclasses import dataclass

from falyx.action.scopes import ROLLBACK_CONTROL, expired_deadline

__all__ = ["ThreadFate", "cancel_reason", "explain_cancel", "fate_of", "note_fate"]

_FATE = "falyx_thread_fate"
_CONTEXT_DEPTH = 8  # how far back `fate_of` follows `__context__`


@dataclass(frozen=True, slots=True)
class ThreadFate:
    """How the thread of a cancelled sync call ended, as far as falyx knows.

    `started` is False when the call was cancelled before its thread took it (it never runs).
    `returned` is False when an abort stopped the waiting: the thread was left running.
    `error` is what the function raised when it returned raising.
    """

    step: str
    started: bool = True
    returned: bool = False
    error: BaseException | None = None

    @property
    def abandoned(self) -> bool:
        """Started and left running."""
        return self.started and not self.returned

    def describe(self) -> str:
        if not self.started:
            return f"step '{self.step}' cancelled before its thread started"
        if not self.returned:
            return f"step '{self.step}' abandoned while running in its thread"
        return f"step '{self.step}' returned in its thread after the cancellation"


def note_fate(exc: BaseException, fate: ThreadFate) -> None:
    """Record on the cancellation `exc` how the thread it met ended."""
    setattr(exc, _FATE, fate)


def fate_of(exc: BaseException | None) -> ThreadFate | None:
    """The fate noted on `exc`, or on the cancellation it was raised from (Python 3.10 makes
    a new `CancelledError` at each task boundary, with the previous one as its context)."""
    for _ in range(_CONTEXT_DEPTH):
        if exc is None:
            return None
        fate = getattr(exc, _FATE, None)
        if fate is not None:
            return fate
        exc = exc.__context__
    return None


def cancel_reason() -> str | None:
    """Why the running code is being cancelled: the signal that interrupted the run, else the
    innermost timeout that fired, else None (cancelled from outside)."""
    control = ROLLBACK_CONTROL.get()
    if control is not None and control.reason:
        return control.reason
    deadline = expired_deadline()
    return None if deadline is None else deadline.describe()


def explain_cancel(exc: BaseException) -> None:
    """Give a `CancelledError` without a message the text its records show: the reason, and
    the step whose thread an abort left running. Other exceptions are left as they are."""
    import asyncio  # loaded: this runs in a loop

    if exc.args or not isinstance(exc, asyncio.CancelledError):
        return
    text = cancel_reason()
    fate = fate_of(exc)
    if fate is not None and fate.abandoned:
        text = f"{text or 'cancelled'}; {fate.describe()}"
    if text:
        exc.args = (text,)
