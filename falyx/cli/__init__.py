"""The headless CLI, generated with Typer (the only package that imports typer)."""

from falyx.cli.core import build_typer
from falyx.cli.entry import parse_argv, run_argv
from falyx.cli.menu_line import line_parser

__all__ = ["build_typer", "line_parser", "parse_argv", "run_argv"]
