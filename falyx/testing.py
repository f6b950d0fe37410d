"""Test a falyx app's command line in-process: `run_cli(app, ["run", "R", "-y"])`.

    from falyx.testing import run_cli

    def test_release_runs():
        result = run_cli(app, ["run", "R", "-y"])
        assert result.exit_code == 0, result.stderr

`run_cli` is synchronous (the command runs in its own event loop, as from a shell), so
call it from plain test functions, not from `async def` tests.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from typer.testing import CliRunner

from falyx.cli.options import compile_app
from falyx.errors import RegistrationError

if TYPE_CHECKING:
    from falyx.app import Falyx

__all__ = ["CliResult", "run_cli"]


@dataclass(frozen=True, slots=True)
class CliResult:
    """What one command line did: its exit code and what it wrote."""

    exit_code: int
    stdout: str
    stderr: str
    #: stdout and stderr interleaved, as a person at the terminal would see them.
    output: str
    #: The exception that ended the run, if any (`SystemExit` for non-zero exits).
    exception: BaseException | None = None


def run_cli(
    app: Falyx,
    args: str | Sequence[str] = (),
    *,
    input: str | None = None,
    env: Mapping[str, str | None] | None = None,
) -> CliResult:
    """Run `app`'s command line with `args` (a list, or a string split like a shell does).

    `input` is fed to stdin (which is not a terminal, so confirmations need `-y` or `-n`);
    `env` sets (or with `None`, removes) environment variables for the call. The `falyx`
    logger's handlers are restored afterwards, so runs do not leak into each other.
    """
    try:
        compile_app(app)  # as `app()` does: a parameter Typer refuses is one error line
    except RegistrationError as exc:
        return CliResult(exc.exit_code, "", f"Error: {exc}\n", f"Error: {exc}\n", exc)
    logger = logging.getLogger("falyx")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    try:
        result = CliRunner().invoke(
            app.typer, args, input=input, env=env, prog_name=app.program
        )
    finally:
        logger.handlers[:] = saved[0]
        logger.setLevel(saved[1])
        logger.propagate = saved[2]
    return CliResult(result.exit_code, result.stdout, result.stderr, result.output,
                     result.exception)
