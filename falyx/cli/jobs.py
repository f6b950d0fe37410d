"""How CLI callbacks hand work over: parsing is synchronous, running is async.

A Typer callback builds a job (an async function returning the exit code) and `dispatch`es
it: while `parse_argv` is parsing, the job is collected, then run by `app()` (`asyncio.run`)
or awaited in the caller's loop (`run_argv`); when `app.typer` is mounted in another Typer
app, the job runs in a loop of its own.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from falyx.errors import FalyxError

if TYPE_CHECKING:
    from falyx.app import Falyx
    from falyx.runner import Session

__all__ = [
    "Job", "check_executor_option", "collecting", "dispatch", "fail", "lookup", "one_line",
    "session_of", "start", "usage_error", "usage_message",
]

Job = Callable[[], Awaitable[int]]
_SINK: contextvars.ContextVar[list[Job] | None] = contextvars.ContextVar("falyx_sink", default=None)


@contextmanager
def collecting() -> Iterator[list[Job]]:
    """Within the block, dispatched jobs are collected in the yielded list, not run."""
    sink: list[Job] = []
    token = _SINK.set(sink)
    try:
        yield sink
    finally:
        _SINK.reset(token)


def dispatch(job: Job) -> None:
    """Hand the job to `parse_argv` when it is parsing, else run it here in its own loop.

    Either way the job runs in a task of its own (`run_argv` or `asyncio.run` starts it), so
    what it sets for the invocation (the default executor) ends with it.
    """
    sink = _SINK.get()
    if sink is not None:
        sink.append(job)
        return
    import asyncio

    raise typer.Exit(asyncio.run(job()))


def session_of(ctx: typer.Context) -> Session:
    """The global options, from the nearest context that has them (the app may be mounted)."""
    from falyx.runner import Session

    current: Any = ctx
    while current is not None and not isinstance(current.obj, Session):
        current = current.parent
    return current.obj if current is not None else Session()


def fail(message: str, code: int = 2) -> NoReturn:
    """One red error line on stderr, then exit with `code`."""
    from falyx.render import render_error

    render_error(f"Error: {message}")
    raise typer.Exit(code)


def usage_error(exc: typer.TyperException) -> None:
    """Print a usage error (a bad option, a missing argument, ...) as one line on stderr:
    `Error: Missing option '--tag'. Try 'tools.py run T -h' for help.`"""
    from falyx.render import render_error

    message = f"Error: {usage_message(exc)}"
    ctx = getattr(exc, "ctx", None)
    if ctx is not None and ctx.help_option_names:
        message += f" Try '{ctx.command_path} {ctx.help_option_names[0]}' for help."
    render_error(message)


def usage_message(exc: typer.TyperException) -> str:
    """Typer's message for a usage error, on one line, ending with a full stop."""
    message = one_line(exc.format_message())
    return message + ("" if message.endswith((".", "!", "?")) else ".")


def one_line(message: str) -> str:
    """Click's message on one line: `Choose from:\n\tdev,\n\tprod.` reads `Choose from: dev,
    prod.` (each line break, with the blanks around it, becomes one space)."""
    return _BREAK.sub(" ", message.strip())


_BREAK = re.compile(r"[ \t]*[\r\n]\s*")


def lookup(app: Falyx, key: str, menus: bool = False) -> Any:
    """The command for `key` (with `menus`, also a submenu), or exit 2 with a "did you mean"
    line."""
    try:
        return app.entry(key) if menus else app.get(key)
    except FalyxError as exc:
        fail(str(exc), exc.exit_code)


def start(app: Falyx, session: Session) -> None:
    """What every job does first: console logging, the history store, the default executor."""
    from falyx.logs import setup_logging
    from falyx.runner import attach_history

    setup_logging(session.verbose, session.log_format)
    attach_history(app, session.history)
    if session.executor:
        from falyx.action.executors import set_default_executor

        set_default_executor(session.executor)


def check_executor_option(spec: str | None) -> str | None:
    """The `--executor` value, checked: one error line and exit 2 if it is not a spec."""
    if spec is None or not spec.strip():
        return None
    from falyx.action.executors import check_available
    from falyx.errors import ExecutorError

    try:
        check_available(spec)
    except ExecutorError as exc:
        fail(f"--executor: {exc}", exc.exit_code)
    return spec
