"""Problems found in a config file, each one line: `FILE:LINE:COL: path: message`."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from falyx.errors import ConfigError

__all__ = ["ConfigFileError", "Problem", "display_path", "format_path"]

#: A place in a document: mapping keys (str) and list indices (int), from the top.
DocPath = tuple["str | int", ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a config file; `str()` is the line shown to the user."""

    file: str
    message: str
    path: str = ""
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigFileError(ConfigError):
    """A config file (or one it includes) is invalid; `.problems` holds every problem found.

    `str()` is one line per problem. Exit code 2 (a `UsageError`).
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def format_path(path: DocPath, prefix: str = "") -> str:
    """`('commands', 1, 'retry', 'delay')` -> `commands[1].retry.delay`."""
    text = prefix
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def display_path(file: Path) -> str:
    """A file as the user would type it: relative to the current folder when inside it."""
    try:
        relative = os.path.relpath(file)
    except ValueError:  # another drive (Windows)
        return str(file)
    return str(file) if relative.startswith("..") else relative
