"""`falyx.testing.run_cli`: the helper users test their own apps with."""

from __future__ import annotations

import logging
import os

from falyx import Falyx
from falyx.testing import CliResult, run_cli


def make_app() -> Falyx:
    app = Falyx("T", program="tool")

    @app.command(key="E")
    def echo(word: str = "hi") -> None:
        import sys

        print(word)
        print(f"env={os.environ.get('GREETING')}", file=sys.stderr)

    @app.command(key="R")
    def read() -> None:
        print(f"read {input()!r}")

    return app


def test_run_cli_separates_stdout_and_stderr_and_keeps_both_in_output() -> None:
    result = run_cli(make_app(), ["echo", "--word", "hello"], env={"GREETING": "hey"})

    assert isinstance(result, CliResult)
    assert result.exit_code == 0
    assert result.stdout == "hello\n"
    assert result.stderr == "env=hey\n"
    assert result.output == "hello\nenv=hey\n"
    assert result.exception is None


def test_run_cli_splits_a_string_like_a_shell() -> None:
    result = run_cli(make_app(), "run e --word 'two words'")

    assert result.stdout == "two words\n"


def test_run_cli_feeds_input_to_stdin() -> None:
    result = run_cli(make_app(), ["read"], input="typed\n")

    assert result.stdout == "read 'typed'\n"


def test_run_cli_reports_the_exit_code_and_exception() -> None:
    result = run_cli(make_app(), ["run", "nope"])

    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)


def test_run_cli_leaves_the_falyx_logger_as_it_found_it() -> None:
    logger = logging.getLogger("falyx")
    before = (list(logger.handlers), logger.level, logger.propagate)

    run_cli(make_app(), ["--log-format", "json", "-v", "echo"])

    assert (list(logger.handlers), logger.level, logger.propagate) == before
