"""Running one request from a frontend: preview, confirm, spinner, signals, outcome, exit code."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
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
    """Run one command as the CLI (and the menu) do; return the exit code.

    rich is imported only when something is drawn: a quiet headless run never loads it.
    """
    command = request.command
    if (command.confirm or request.force_confirm) and not request.skip_confirm:
        code = await _confirm(command, session, request.kwargs)
        if code is not None:
            return code
    ctx, options = app.prepare(command, (), request.kwargs, overrides=request.overrides)
    task = asyncio.ensure_future(app.drive(ctx, options))
    with cancel_on_signals(task) as received, _spinner(command):
        try:
            await task
        except asyncio.CancelledError:
            if not received:  # cancelled from outside, not by our signal handler
                raise
        except Exception:
            pass  # the outcome is on ctx
    code = exit_code(ctx, received[0] if received else 130)
    report(app, ctx, request, session, code)
    return code


async def _confirm(command: Command, session: Session, kwargs: Mapping[str, Any]) -> int | None:
    """Preview and ask, showing the arguments; None to go on, else the exit code to stop with."""
    from falyx import render

    console = render.make_console()
    try:
        if command.preview_before_confirm:
            render.render_preview(command.preview(kwargs=kwargs), console)
        if await confirm(command.confirmation_for(kwargs), never_prompt=session.never_prompt,
                         hint=f"command '{command.key}'"):
            return None
    except FalyxError as exc:
        render.render_error(f"Error: {exc}", console)
        return exc.exit_code
    except (KeyboardInterrupt, EOFError):
        console.print("Cancelled.")
        return 130
    console.print("Cancelled.")
    return 1


def _spinner(command: Command) -> Any:
    if not (command.spinner and sys.stderr.isatty()):
        return nullcontext()
    from falyx.render import spinner

    return spinner(command.spinner_message or f"Running {command.description}…")


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
    if request.json:
        sys.stdout.write(json.dumps(outcome_json(ctx), default=repr) + "\n")
        sys.stdout.flush()
    quiet_success = ctx.status == OK and (request.json or ctx.result is None
                                          or not sys.stderr.isatty())
    if quiet_success and not request.summary:
        return
    from falyx import render

    console = render.make_console()
    if request.summary:
        render.render_summary(app.registry.records(run_id=ctx.run_id), console)
    if ctx.status == CANCELLED:
        console.print("Interrupted." if code == 130 else "Terminated.")
    elif ctx.status != OK:
        exc = ctx.exception
        render.render_error(f"Error: {type(exc).__name__}: {exc}", console)
        for note in getattr(exc, "__notes__", ()):
            render.render_error(f"  {note}", console)
        if session.verbose and ctx.traceback:
            console.print(ctx.traceback, markup=False, highlight=False)
    elif not quiet_success:
        command = request.command
        console.print(f"✅ {command.key} — {command.description}: "
                      f"{render.format_value(ctx.result)}", markup=False)


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



def attach_history(app: Falyx, override: str | None) -> None:
    """Persist the app's history where `--history`, `FALYX_HISTORY` or the state dir say."""
    from falyx.store import SQLiteHistoryStore, resolve_history_path

    path = resolve_history_path(app.program, override if override is not None else app.history)
    current = app.registry.store
    if path is None:
        app.registry.store = None
    elif not (isinstance(current, SQLiteHistoryStore) and current.path == path):
        app.registry.store = SQLiteHistoryStore(path, app.program)
