"""Rollback: undo completed steps in reverse, log, record, and honour an abort (DESIGN §2.4).

Run-time only: steps and composites import it when something is to be undone.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from falyx.action.cancellation import fate_of
from falyx.action.options import RunOptions, current_options
from falyx.action.scopes import ROLLBACK_CONTROL, call, shielded
from falyx.context import _CURRENT, CANCELLED, OK, ExecutionContext
from falyx.errors import StepTimeoutError

if TYPE_CHECKING:
    from falyx.action.base import BaseAction, UndoEntry

__all__ = ["roll_back_late", "rollback", "rollback_walk"]

logger = logging.getLogger("falyx")
NOT_STARTED = "rollback aborted before it started"
STOPPED = "rollback aborted while running"
ABANDONED = "rollback abandoned while running in its thread (a thread cannot be stopped)"


def _reason(cause: BaseException, after: str | None) -> str:
    if not isinstance(cause, Exception):  # CancelledError, KeyboardInterrupt, SystemExit
        return "after cancellation"
    return f"after '{after}' failed" if after else f"after {type(cause).__name__}"


async def rollback(
    undo: list[UndoEntry] | tuple[UndoEntry, ...], cause: BaseException, after: str | None = None
) -> None:
    """Undo completed steps in reverse order, shielded from cancellation (DESIGN §2.4).

    `after` names the step(s) whose failure caused it (for the log line). Each step undone
    logs a WARNING (`[build] Rolled back after 'deploy' failed`); a rollback that raises logs
    an ERROR, is recorded, and the walk goes on; the errors are attached to `cause`
    (`cause.rollback_errors`, and a note where supported). A frontend's `RollbackControl`
    may abort the walk: the steps not undone are then recorded CANCELLED.
    """
    if undo:
        await shielded(rollback_walk(list(undo), cause, after))


async def roll_back_late(step: BaseAction, ctx: ExecutionContext) -> None:
    """Undo a step that completed after its timeout or cancellation (DESIGN §2.4).

    Its thread (or executor task) returned normally once falyx had waited for it: its effects
    are applied, so it is rolled back like a completed step, before the steps that completed
    before it (it is the latest). Its own record stays failed or cancelled: it did not
    succeed in time. The rollback record's parent is the enclosing step's.
    """
    exc = ctx.exception
    if isinstance(exc, StepTimeoutError) and getattr(exc, "step", None) == step.name:
        when = "its timeout"
    else:
        text = "" if exc is None else str(exc).removeprefix("cancelled: ")
        when = f"it was cancelled ({text})" if text else "it was cancelled"
    logger.warning("[%s] returned after %s; rolling it back too", step.name, when,
                   extra={"action": step.name, "event": "late_rollback"})
    token = _CURRENT.set(ctx.parent or ctx)
    try:
        await rollback([(step, ctx.args, ctx.kwargs)], exc or StepTimeoutError(step.name),
                       after=step.name)
    finally:
        _CURRENT.reset(token)


async def rollback_walk(undo: list[UndoEntry], cause: BaseException, after: str | None) -> None:
    """Undo `undo` in reverse order (see `rollback`, which shields it).

    When an abort stops the walk, the rollback running then is recorded as what happened to
    it (stopped, abandoned in its thread, or done if its function had returned), the rest
    CANCELLED, and `cause.rollback_aborted` is set.
    """
    import asyncio

    reason = _reason(cause, after)
    errors: list[BaseException] = []
    options = current_options()
    parent = _CURRENT.get()
    control = ROLLBACK_CONTROL.get()
    walk = asyncio.current_task()
    if control is not None and walk is not None:
        control.walks.add(walk)
    steps = list(reversed(undo))
    try:
        for position, (step, args, kwargs) in enumerate(steps):
            if control is not None and control.aborted:
                _abandon(steps[position:], parent, options)
                cause.rollback_aborted = True  # type: ignore[attr-defined]
                break
            ctx = _context(step, args, kwargs, parent, options)
            started = time.perf_counter()
            try:
                await call(step.rollback, args, kwargs, step.name)
                _undone(ctx, reason)
            except asyncio.CancelledError as exc:  # aborted: this step and the rest are left
                if not _settle_abort(ctx, exc, reason, errors) or position + 1 < len(steps):
                    cause.rollback_aborted = True  # type: ignore[attr-defined]
                _finish(ctx, started, options)
                _abandon(steps[position + 1:], parent, options)
                break
            except Exception as exc:
                _failed(ctx, exc, errors)
            _finish(ctx, started, options)
    finally:
        if control is not None and walk is not None:
            control.walks.discard(walk)
    if errors:
        existing = getattr(cause, "rollback_errors", [])
        cause.rollback_errors = [*existing, *errors]  # type: ignore[attr-defined]
        if hasattr(cause, "add_note"):
            for exc in errors:
                cause.add_note(f"rollback failed: {type(exc).__name__}: {exc}")


def _undone(ctx: ExecutionContext, reason: str) -> None:
    ctx.status = OK
    logger.warning("[%s] Rolled back %s", ctx.name, reason,
                   extra={"action": ctx.name, "event": "rollback"})


def _failed(ctx: ExecutionContext, exc: BaseException, errors: list[BaseException]) -> None:
    ctx.fail(exc)
    errors.append(exc)
    logger.error("[%s] Rollback failed: %s: %s", ctx.name, type(exc).__name__, exc,
                 extra={"action": ctx.name, "event": "rollback_failed"})


def _settle_abort(ctx: ExecutionContext, exc: BaseException, reason: str,
                  errors: list[BaseException]) -> bool:
    """Record the rollback an abort met as what really happened to it; True when it had
    completed (its sync function returned before the abort was seen)."""
    import asyncio

    fate = fate_of(exc)
    if fate is None or not fate.returned:
        text = STOPPED if fate is None else ABANDONED if fate.started else NOT_STARTED
        ctx.attempts = int(fate is None or fate.started)
        _cancelled(ctx, asyncio.CancelledError(text))
        return False
    if fate.error is None:
        _undone(ctx, reason)
    else:
        _failed(ctx, fate.error, errors)
    return True


def _cancelled(ctx: ExecutionContext, exc: BaseException) -> None:
    ctx.fail(exc, CANCELLED)
    text = str(exc)
    logger.warning("[%s] %s", ctx.name, text[:1].upper() + text[1:],
                   extra={"action": ctx.name, "event": "rollback_aborted"})


def _context(step: object, args: tuple, kwargs: dict, parent: ExecutionContext | None,
             options: RunOptions, attempts: int = 1) -> ExecutionContext:
    ctx = ExecutionContext(
        step.name, step, args, kwargs, kind="Rollback", id=_next_id(),  # type: ignore[attr-defined]
        parent=parent, run_id=parent.run_id if parent else _new_run_id(),
        command=options.command, record_result=False, attempts=attempts,
    )
    ctx.start = time.time()
    return ctx


def _finish(ctx: ExecutionContext, started: float, options: RunOptions) -> None:
    """Time and record one rollback execution."""
    ctx.end, ctx.duration = time.time(), time.perf_counter() - started
    if options.registry is not None:
        options.registry.record(ctx)


def _abandon(steps: list[UndoEntry], parent: ExecutionContext | None,
             options: RunOptions) -> None:
    """Record the rollbacks an abort left undone, CANCELLED."""
    import asyncio

    for step, args, kwargs in steps:
        ctx = _context(step, args, kwargs, parent, options, attempts=0)
        _cancelled(ctx, asyncio.CancelledError(NOT_STARTED))
        _finish(ctx, time.perf_counter(), options)


def _next_id() -> int:
    from falyx.action.base import _ids  # base imports this module: look it up at run time

    return next(_ids)


def _new_run_id() -> str:
    from falyx.action.base import new_run_id

    return new_run_id()
