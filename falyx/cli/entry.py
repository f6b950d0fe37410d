"""The CLI's entry points: parse `argv` with the Typer app, then run what it asked for.

Parsing needs no event loop (`app()` starts one only for a job, so `--help` never loads
asyncio); `run_argv` is the same for a caller already in a loop (`await app.run()`).
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from falyx.cli import jobs
from falyx.cli.options import compile_app
from falyx.errors import RegistrationError, UsageError
from falyx.stdout import closed_pipe_exit

if TYPE_CHECKING:
    from falyx.app import Falyx

__all__ = ["loading", "parse_argv", "run_argv", "run_argv_sync"]

#: The file the `falyx` script is importing, while it does (`loading`).
_LOADING: ContextVar[Path | None] = ContextVar("falyx_loading", default=None)


@contextmanager
def loading(file: Path) -> Iterator[None]:
    """While the `falyx` script imports `file` (an absolute path) to find its app.

    An app started from that file as it is imported (`app()` or `asyncio.run(app.run())` not
    under a main guard) would parse the script's argv (`FILE.py run R`) as its own: instead,
    starting it raises `UsageError` naming the file and the line.
    """
    token = _LOADING.set(file)
    try:
        yield
    finally:
        _LOADING.reset(token)


def _refuse_while_loading() -> None:
    file = _LOADING.get()
    if file is None:
        return
    # The outermost frame in the file: the top-level statement that started the app.
    where = next((f for f in traceback.extract_stack() if Path(f.filename) == file), None)
    line, code = (where.lineno, where.line) if where is not None else ("?", None)
    raise UsageError(f"{file.name}:{line} calls {code or 'the app'} when imported; put it "
                     'under if __name__ == "__main__":')


def parse_argv(app: Falyx, argv: list[str]) -> tuple[int, jobs.Job | None]:
    """Parse `argv` with the Typer app, synchronously: no event loop is needed to parse.

    Returns the exit code so far and the job to run (None when parsing did everything:
    `--help`, `--version`, a usage error, ...). `--help` thus never loads asyncio.

    Raises:
        UsageError: the app was started while the `falyx` script imports its file (`loading`).
    """
    _refuse_while_loading()
    try:
        command = compile_app(app)
    except RegistrationError as exc:
        from falyx.render import render_error

        render_error(f"Error: {exc}")
        return exc.exit_code, None
    with jobs.collecting() as sink:
        try:
            # Not standalone: a usage error is ours to print, as one line (DESIGN §2.6)
            result = command.main(args=list(argv), prog_name=app.prog_name,
                                  standalone_mode=False)
            code: Any = result if isinstance(result, int) and not isinstance(result, bool) else 0
        except typer.TyperException as exc:  # Click's usage errors, bad parameters, ...
            jobs.usage_error(exc)
            code = getattr(exc, "exit_code", 2)
        except typer.Abort:
            from falyx.render import render_error

            render_error("Aborted.")
            code = 1
        except SystemExit as exc:  # shell completion, and a callback's own sys.exit
            code = exc.code
    if sink:
        return 0, sink[0]
    return (code if isinstance(code, int) else (0 if code is None else 1)), None


async def run_argv(app: Falyx, argv: list[str]) -> int:
    """Parse `argv` with the Typer app, then run what it asked for in this loop (in a task
    of its own, so what the job sets for the invocation ends with it)."""
    import asyncio

    with closed_pipe_exit():
        code, job = parse_argv(app, argv)
        return code if job is None else await asyncio.ensure_future(job())


def run_argv_sync(app: Falyx, argv: list[str]) -> int:
    """`app()`: parse `argv` without an event loop (`--help` never starts one), then run the
    job, if any, with `asyncio.run`; the exit code (130 for Ctrl-C outside a command).

    Raises:
        SystemExit: 1 when the reader of stdout has gone (`falyx.stdout.closed_pipe_exit`).
    """
    with closed_pipe_exit():
        try:
            code, job = parse_argv(app, argv)
            if job is not None:
                import asyncio

                code = asyncio.run(job())
        except KeyboardInterrupt:  # Ctrl-C outside a command (parsing, between menu prompts)
            sys.stderr.write("Interrupted.\n")
            return 130
    return code
