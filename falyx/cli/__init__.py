"""The headless CLI, generated with Typer (the only package that imports typer)."""

from falyx.cli.core import build_typer, line_parser
from falyx.cli.entry import parse_argv, run_argv

__all__ = ["build_typer", "line_parser", "parse_argv", "run_argv"]
