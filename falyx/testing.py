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
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from typer.testing import CliRunner

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

    It goes through `app()` itself (the same parsing, output and exit codes as from a shell),
    inside Click's test isolation: `input` is fed to stdin (which is not a terminal, so
    confirmations need `-y` or `-n`); `env` sets (or with `None`, removes) environment
    variables for the call. The `falyx` logger's handlers are restored afterwards, so runs do
    not leak into each other.
    """
    argv = shlex.split(args) if isinstance(args, str) else list(args)
    logger = logging.getLogger("falyx")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    exception: BaseException | None = None
    runner = CliRunner()
    try:
        with runner.isolation(input=input, env=env) as (stdout, stderr, output):
            try:
                app(argv)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                exception = exc if code else None
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
            texts = [s.getvalue().decode(runner.charset, "replace").replace("\r\n", "\n")
                     for s in (stdout, stderr, output)]
    finally:
        logger.handlers[:] = saved[0]
        logger.setLevel(saved[1])
        logger.propagate = saved[2]
    return CliResult(code, *texts, exception)
