"""The headless CLI, generated with Typer (the only package that imports typer)."""

from typing import Any

from falyx.cli.core import build_typer
from falyx.cli.entry import parse_argv, run_argv, run_argv_sync

__all__ = ["build_typer", "line_parser", "parse_argv", "run_argv", "run_argv_sync"]


def __getattr__(name: str) -> Any:
    """`line_parser` on first use: only the menu needs it, so `--help` never loads it."""
    if name == "line_parser":
        from falyx.cli.menu_line import line_parser

        return line_parser
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
