"""The rollback walk: undo completed steps in reverse, log, record, and honour an abort."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from falyx.action.options import RunOptions, current_options
from falyx.action.scopes import ROLLBACK_CONTROL, call
from falyx.context import _CURRENT, CANCELLED, OK, ExecutionContext

if TYPE_CHECKING:
    from falyx.action.base import UndoEntry

__all__ = ["rollback_walk"]

logger = logging.getLogger("falyx")


def _reason(cause: BaseException, after: str | None) -> str:
    if not isinstance(cause, Exception):  # CancelledError, KeyboardInterrupt, SystemExit
        return "after cancellation"
    return f"after '{after}' failed" if after else f"after {type(cause).__name__}"


async def rollback_walk(undo: list[UndoEntry], cause: BaseException, after: str | None) -> None:
    """Undo `undo` in reverse order (see `falyx.action.base.rollback`, which shields it)."""
    import asyncio

    reason = _reason(cause, after)
    errors: list[BaseException] = []
    options = current_options()
    parent = _CURRENT.get()
    control = ROLLBACK_CONTROL.get()
    walk = asyncio.current_task()
    if control is not None and walk is not None:
        control.walks.add(walk)
    try:
        for position, (step, args, kwargs) in enumerate(reversed(undo)):
            ctx = ExecutionContext(
                step.name, step, args, kwargs, kind="Rollback", id=_next_id(), parent=parent,
                run_id=parent.run_id if parent else _new_run_id(), command=options.command,
                record_result=False, attempts=1,
            )
            ctx.start, started = time.time(), time.perf_counter()
            try:
                if control is not None and control.aborted:
                    raise asyncio.CancelledError
                await call(step.rollback, args, kwargs)
                ctx.status = OK
                logger.warning("[%s] Rolled back %s", step.name, reason,
                               extra={"action": step.name, "event": "rollback"})
            except asyncio.CancelledError as exc:  # aborted: this step and the rest are left
                _finish(ctx, started, options, exc)
                _abandon(list(reversed(undo))[position + 1:], parent, options)
                break
            except Exception as exc:
                ctx.fail(exc)
                errors.append(exc)
                logger.error("[%s] Rollback failed: %s: %s", step.name, type(exc).__name__, exc,
                             extra={"action": step.name, "event": "rollback_failed"})
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


def _finish(ctx: ExecutionContext, started: float, options: RunOptions,
            cancelled: BaseException | None = None) -> None:
    """Time and record one rollback execution (CANCELLED when the walk was aborted)."""
    if cancelled is not None:
        ctx.fail(cancelled, CANCELLED)
        logger.warning("[%s] Rollback aborted", ctx.name,
                       extra={"action": ctx.name, "event": "rollback_aborted"})
    ctx.end, ctx.duration = time.time(), time.perf_counter() - started
    if options.registry is not None:
        options.registry.record(ctx)


def _abandon(steps: list[UndoEntry], parent: ExecutionContext | None,
             options: RunOptions) -> None:
    """Record the rollbacks an abort left undone, CANCELLED."""
    import asyncio

    for step, args, kwargs in steps:
        ctx = ExecutionContext(
            step.name, step, args, kwargs, kind="Rollback", id=_next_id(), parent=parent,
            run_id=parent.run_id if parent else _new_run_id(), command=options.command,
            record_result=False, attempts=0,
        )
        ctx.start = time.time()
        _finish(ctx, time.perf_counter(), options, asyncio.CancelledError())


def _next_id() -> int:
    from falyx.action.base import _ids  # base imports this module: look it up at run time

    return next(_ids)


def _new_run_id() -> str:
    from falyx.action.base import new_run_id

    return new_run_id()
