"""Running requests from a frontend: preview, confirm, spinner, signals, outcome, exit code."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from falyx.command import format_arguments
from falyx.context import CANCELLED, OK, ExecutionContext
from falyx.errors import FalyxError, RollbackError
from falyx.interrupts import SIGNAL_EXIT, SignalScope, current_scope, signal_scope
from falyx.stdout import tracked_stdout, write_line

if TYPE_CHECKING:
    from falyx.app import Falyx
    from falyx.command import Command

__all__ = ["SIGNAL_EXIT", "RunRequest", "Session", "execute", "execute_all"]

logger = logging.getLogger("falyx")


@dataclass
class Session:
    """Global options of one invocation."""

    never_prompt: bool = False
    verbose: bool = False
    log_format: str | None = None
    history: str | None = None
    executor: str | None = None

    def notify(self, text: str) -> None:
        """A one-line notice on stderr (a JSON log line with `--log-format json`)."""
        if self.log_format == "json":
            logger.warning(text, extra={"event": "notice"})
        else:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()


@dataclass
class RunRequest:
    """What a frontend asks to run, with the run options given on the command line.

    `batch` marks a command run by `run-all`: its error lines name the command.
    """

    command: Command
    kwargs: dict[str, Any] = field(default_factory=dict)
    skip_confirm: bool = False
    force_confirm: bool = False
    summary: bool = False
    json: bool = False
    overrides: Mapping[str, Any] = field(default_factory=dict)
    batch: bool = False


async def execute(app: Falyx, request: RunRequest, session: Session) -> int:
    """Run one command as the CLI (and the menu) do; return the exit code.

    Under `execute_all` the signal handlers are already installed; otherwise this installs
    them for the run. While it runs, stdout is tracked (`falyx.stdout`): the `--json` object
    starts on a line of its own, and a closed pipe discards output instead of failing a step.
    rich is imported only when something is drawn.
    """
    code = await _confirmed(app, request, session)
    if code is not None:
        return code
    scope = current_scope()
    with tracked_stdout():
        if scope is None:
            with signal_scope(session.notify) as scope:
                return await _run(app, request, session, scope)
        return await _run(app, request, session, scope)


async def execute_all(app: Falyx, requests: list[RunRequest], session: Session) -> int:
    """`run-all`: confirm every command first, then run them all concurrently under one
    signal handler; the highest exit code wins (130/143 when interrupted)."""
    for request in requests:
        code = await _confirmed(app, request, session)
        if code is not None:
            return code
    with tracked_stdout(), signal_scope(session.notify) as scope:
        codes = await asyncio.gather(*(_run(app, r, session, scope) for r in requests))
    return max(codes)


async def _confirmed(app: Falyx, request: RunRequest, session: Session) -> int | None:
    """Ask when the request needs it: None to go on, else the exit code to stop with."""
    command = request.command
    if (command.confirm or request.force_confirm) and not request.skip_confirm:
        return await _confirm(app, request, session)
    if command.confirm:
        _debug(command.key, "confirmation skipped (-y)", "confirm")
    return None


async def _run(app: Falyx, request: RunRequest, session: Session, scope: SignalScope) -> int:
    """Run one confirmed request under the invocation's signal scope; its exit code."""
    ctx, options = app.prepare(request.command, (), request.kwargs, overrides=request.overrides)
    key = ctx.command or request.command.key
    if logger.isEnabledFor(logging.DEBUG):
        with_args = f" with {format_arguments(request.kwargs)}" if request.kwargs else ""
        _debug(key, f"starting {request.command.description!r}{with_args} (run {ctx.run_id})",
               "start")
    task = asyncio.ensure_future(app.drive(ctx, options))
    scope.track(task)
    with _spinner(request.command):
        try:
            await task
        except asyncio.CancelledError:
            if scope.code is None:  # cancelled from outside, not by a signal
                raise
        except Exception:
            pass  # the outcome is on ctx
    code = exit_code(ctx, scope.code or 130)
    _debug(key, f"{ctx.status} in {ctx.duration or 0:.3f}s, exit code {code}", "end",
           status=ctx.status, duration=ctx.duration)
    report(app, ctx, request, session, code)
    return code


async def _confirm(app: Falyx, request: RunRequest, session: Session) -> int | None:
    """Preview and ask, showing the arguments and naming the command by its path (`O.C`);
    None to go on, else the exit code to stop with."""
    from falyx import render
    from falyx.prompts import confirm

    command, kwargs, label = request.command, request.kwargs, app.label(request.command)
    console = render.make_console()
    try:
        if command.preview_before_confirm:
            render.render_preview(app.preview(command, kwargs, overrides=request.overrides),
                                  console)
        answer = await confirm(command.confirmation_for(kwargs, label),
                               never_prompt=session.never_prompt, hint=f"command '{label}'")
        _debug(label, ("confirmed" if answer else "declined")
               + (" by default (-n)" if session.never_prompt else ""), "confirm")
        if answer:
            return None
    except FalyxError as exc:
        render.render_error(f"Error: {exc}", console)
        return exc.exit_code
    except (KeyboardInterrupt, EOFError):
        console.print("Cancelled.")
        return 130
    console.print("Cancelled.")
    return 1


def _debug(key: str, message: str, event: str, **fields: Any) -> None:
    """One run-level DEBUG line (`-v`): `[D] confirmed`, `[D] OK in 0.201s, exit code 0`."""
    logger.debug("[%s] %s", key, message, extra={"action": key, "event": event, **fields})


def _spinner(command: Command) -> Any:
    if not (command.spinner and sys.stderr.isatty()):
        return nullcontext()
    from falyx.render import spinner

    return spinner(command.spinner_message or f"Running {command.description}…")


def exit_code(ctx: ExecutionContext, cancel_code: int) -> int:
    """0 OK; 3 when the rollback failed too; the error's own code (1 by default); 130/143
    when interrupted."""
    if ctx.status == OK:
        return 0
    if ctx.status == CANCELLED:
        return cancel_code
    if getattr(ctx.exception, "rollback_errors", None):
        return RollbackError.exit_code
    return getattr(ctx.exception, "exit_code", 1) if isinstance(ctx.exception, FalyxError) else 1


def report(app: Falyx, ctx: ExecutionContext, request: RunRequest, session: Session,
           code: int) -> None:
    """Tell the user how it went: JSON on stdout, or lines and tables on stderr.

    With `--log-format json` the failure lines are JSON log records too.
    """
    if request.json:  # strict JSON: outcome_json holds JSON data only (json_value)
        # on a line of its own, whatever the steps printed last (`print(..., end="")`)
        write_line(sys.stdout, json.dumps(outcome_json(ctx), allow_nan=False) + "\n")
        sys.stdout.flush()
    quiet_success = ctx.status == OK and (request.json or ctx.result is None
                                          or not sys.stderr.isatty())
    if quiet_success and not request.summary:
        return
    as_json = session.log_format == "json"
    if ctx.status != OK and as_json and not request.summary:
        _log_failure(ctx, request, code, session.verbose)
        return
    from falyx import render

    console = render.make_console()
    if request.summary:
        render.render_summary(app.registry.records(run_id=ctx.run_id), console)
    if ctx.status != OK and as_json:
        _log_failure(ctx, request, code, session.verbose)
    elif ctx.status == CANCELLED:
        console.print(_failure_lines(ctx, request, code)[0])
    elif ctx.status != OK:
        for line in _failure_lines(ctx, request, code):
            render.render_error(line, console)
        if session.verbose and ctx.traceback:
            console.print(ctx.traceback, markup=False, highlight=False)
    elif not quiet_success:
        command = request.command
        console.print(f"✅ {ctx.command or command.key} — {command.description}: "
                      f"{render.format_value(ctx.result)}", markup=False)


def _failure_lines(ctx: ExecutionContext, request: RunRequest, code: int) -> list[str]:
    """`Error: RuntimeError: boom` (`Error [D deploy]: ...` in a batch) and the exception's
    notes; `Interrupted.` or `Terminated.` for a cancelled run. Failed rollbacks are not
    repeated here: each has logged its own ERROR line."""
    command = request.command
    key = ctx.command or command.key  # a submenu's command by its path: `O.R`
    label = f" [{key} {command.cli_name or command.action.name}]" if request.batch else ""
    if ctx.status == CANCELLED:
        return [("Interrupted" if code == 130 else "Terminated") + (f"{label}." if label else ".")]
    exc = ctx.exception
    lines = [f"Error{label}: {type(exc).__name__}: {exc}"]
    undone = {f"rollback failed: {type(e).__name__}: {e}"
              for e in getattr(exc, "rollback_errors", ())}
    lines.extend(f"  {note}" for note in getattr(exc, "__notes__", ()) if note not in undone)
    return lines


def _log_failure(ctx: ExecutionContext, request: RunRequest, code: int, verbose: bool) -> None:
    exc = ctx.exception
    lines = _failure_lines(ctx, request, code)
    cancelled = ctx.status == CANCELLED
    logger.log(
        logging.WARNING if cancelled else logging.ERROR, "\n".join(lines),
        exc_info=(type(exc), exc, exc.__traceback__) if verbose and exc and not cancelled
        else None,
        extra={"action": ctx.command or request.command.key,
               "event": "cancelled" if cancelled else "failed",
               "status": ctx.status, "duration": ctx.duration},
    )


def outcome_json(ctx: ExecutionContext) -> dict[str, Any]:
    """`{"command", "status", "result", "duration", "error"}`, and `"rollback_errors"` when
    undoing the completed steps failed too, `"rollback_aborted": true` when an abort (the
    third Ctrl-C) left some of them not undone. `error` is `Type: message`; a cancelled run's
    message says why (`CancelledError: Interrupted (SIGINT)`). The result is JSON data as the
    history keeps it (`falyx.history_row.json_value`: a path as its text, NaN or an object as
    its repr)."""
    from falyx.history_row import json_value

    exc = ctx.exception
    undone = getattr(exc, "rollback_errors", None)
    result = json_value(ctx.result) if ctx.record_result else None
    return {
        "command": ctx.command,
        "status": ctx.status,
        "result": result,
        "duration": ctx.duration,
        "error": None if exc is None else f"{type(exc).__name__}: {exc}",
        **({"rollback_errors": [f"{type(e).__name__}: {e}" for e in undone]} if undone else {}),
        **({"rollback_aborted": True} if getattr(exc, "rollback_aborted", False) else {}),
    }


def attach_history(app: Falyx, override: str | None) -> None:
    """Persist the app's history where `--history`, `FALYX_HISTORY` or the state dir say
    (for a mounted app: its root app's history, which its runs record into)."""
    from falyx.state_paths import resolve_history_path

    app = app.root

    path = resolve_history_path(app.program, override if override is not None else app.history)
    logger.debug("history: %s", path or "off (kept in memory)", extra={"event": "history"})
    if path is None:  # SQLite is not even loaded
        app.registry.store = None
        return
    from falyx.store import SQLiteHistoryStore

    current = app.registry.store
    if not (isinstance(current, SQLiteHistoryStore) and current.path == path):
        app.registry.store = SQLiteHistoryStore(path, app.program)
