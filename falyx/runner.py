"""Running one request from a frontend: preview, confirm, spinner, signals, outcome, exit code."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from falyx.context import CANCELLED, OK, ExecutionContext
from falyx.errors import FalyxError
from falyx.prompts import confirm

if TYPE_CHECKING:
    from falyx.app import Falyx
    from falyx.command import Command

__all__ = ["RunRequest", "Session", "execute"]

SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


@dataclass
class Session:
    """Global options of one invocation."""

    never_prompt: bool = False
    verbose: bool = False
    log_format: str | None = None
    history: str | None = None


@dataclass
class RunRequest:
    """What a frontend asks to run, with the run options given on the command line."""

    command: Command
    kwargs: dict[str, Any] = field(default_factory=dict)
    skip_confirm: bool = False
    force_confirm: bool = False
    summary: bool = False
    json: bool = False
    overrides: Mapping[str, Any] = field(default_factory=dict)


@contextmanager
def cancel_on_signals(task: asyncio.Future[Any]) -> Iterator[list[int]]:
    """Cancel `task` on SIGINT/SIGTERM; yields a list that receives the signal's exit code."""
    received: list[int] = []
    loop = asyncio.get_running_loop()
    installed = []

    def on_signal(signum: int) -> None:
        if not received:
            received.append(SIGNAL_EXIT[signum])
        task.cancel()

    for signum in SIGNAL_EXIT:
        try:
            loop.add_signal_handler(signum, on_signal, signum)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread / Windows
            pass
    try:
        yield received
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
        if signal.SIGINT in installed:
            signal.signal(signal.SIGINT, signal.default_int_handler)


async def execute(app: Falyx, request: RunRequest, session: Session) -> int:
    """Run one command as the CLI (and the menu) do; return the exit code."""
    from falyx import render

    command, console = request.command, render.make_console()
    try:
        if (command.confirm or request.force_confirm) and not request.skip_confirm:
            if command.preview_before_confirm:
                render.render_preview(command.preview(), console)
            if not await confirm(command.confirmation_text, never_prompt=session.never_prompt,
                                 hint=f"command '{command.key}'"):
                console.print("Cancelled.")
                return 1
    except FalyxError as exc:
        render.render_error(f"Error: {exc}", console)
        return exc.exit_code
    except (KeyboardInterrupt, EOFError):
        console.print("Cancelled.")
        return 130
    ctx, options = app.prepare(command, (), request.kwargs, overrides=request.overrides)
    task = asyncio.ensure_future(app.drive(ctx, options))
    with cancel_on_signals(task) as received, render.spinner(
        command.spinner_message or f"Running {command.description}…", command.spinner
    ):
        try:
            await task
        except asyncio.CancelledError:
            if not received:  # we were cancelled from outside, not by a signal
                raise
        except Exception:
            pass  # the outcome is on ctx
    code = exit_code(ctx, received[0] if received else 130)
    report(app, ctx, request, session, code)
    return code


def exit_code(ctx: ExecutionContext, cancel_code: int) -> int:
    """0 OK; the error's own code (1 by default); 130/143 when interrupted."""
    if ctx.status == OK:
        return 0
    if ctx.status == CANCELLED:
        return cancel_code
    return getattr(ctx.exception, "exit_code", 1) if isinstance(ctx.exception, FalyxError) else 1


def report(app: Falyx, ctx: ExecutionContext, request: RunRequest, session: Session,
           code: int) -> None:
    """Tell the user how it went: JSON on stdout, or lines and tables on stderr."""
    from falyx import render

    console = render.make_console()
    if request.summary:
        render.render_summary(app.registry.records(run_id=ctx.run_id), console)
    if request.json:
        sys.stdout.write(json.dumps(outcome_json(ctx), default=repr) + "\n")
        sys.stdout.flush()
    if ctx.status == CANCELLED:
        console.print("Interrupted." if code == 130 else "Terminated.")
    elif ctx.status != OK:
        exc = ctx.exception
        render.render_error(f"Error: {type(exc).__name__}: {exc}", console)
        for note in getattr(exc, "__notes__", ()):
            render.render_error(f"  {note}", console)
        if session.verbose and ctx.traceback:
            console.print(ctx.traceback, markup=False, highlight=False)
    elif not request.json and ctx.result is not None and console.is_terminal:
        console.print(f"✅ {command_label(request.command)}: {render.format_value(ctx.result)}")


def outcome_json(ctx: ExecutionContext) -> dict[str, Any]:
    """`{"command", "status", "result", "duration", "error"}`."""
    exc = ctx.exception
    result = ctx.result if ctx.record_result else None
    try:
        json.dumps(result)
    except (TypeError, ValueError):
        result = repr(result)
    return {
        "command": ctx.command,
        "status": ctx.status,
        "result": result,
        "duration": ctx.duration,
        "error": None if exc is None else f"{type(exc).__name__}: {exc}",
    }


def command_label(command: Command) -> str:
    return f"{command.key} — {command.description}"


def attach_history(app: Falyx, override: str | None) -> None:
    """Persist the app's history where `--history`, `FALYX_HISTORY` or the state dir say."""
    from falyx.store import SQLiteHistoryStore, resolve_history_path

    path = resolve_history_path(app.program, override if override is not None else app.history)
    current = app.registry.store
    if path is None:
        app.registry.store = None
    elif not (isinstance(current, SQLiteHistoryStore) and current.path == path):
        app.registry.store = SQLiteHistoryStore(path, app.program)
