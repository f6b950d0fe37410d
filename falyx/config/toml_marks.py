"""TOML config files: tomllib parses; a small scanner finds the line of each key and item.

tomllib reports no positions for valid documents, so after it has accepted the text (and
only then) `_Scanner` walks the same text once, tracking table headers, arrays of tables,
dotted keys, inline tables and arrays, and records where each path starts.
"""

from __future__ import annotations

import bisect
import re
import sys
from pathlib import Path
from typing import Any

from falyx.config.problems import ConfigFileError, DocPath, Problem, display_path
from falyx.config.source import Document, Mark

__all__ = ["read_toml"]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_AT = re.compile(r"\(at line (\d+), column (\d+)\)")
_ESCAPED_QUOTE = re.compile(r'\\.')


def read_toml(file: Path, text: str, *, pyproject: bool = False) -> Document:
    """A `Document` from TOML text (the `[tool.falyx]` table when `pyproject`).

    Raises:
        ConfigFileError: a syntax error (with its line and column), or a pyproject.toml
            without `[tool.falyx]`.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised by the 3.10 run of `make test-all`
        import tomli as tomllib

    name = display_path(file)
    try:
        data: Any = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _AT.search(str(exc))
        line, column = (int(found[1]), int(found[2])) if found else (None, None)
        message = _AT.sub("", str(exc)).strip()
        raise ConfigFileError([Problem(name, f"TOML syntax error: {message}", line=line,
                                       column=column)]) from None
    marks = _Scanner(text).scan()
    if not pyproject:
        marks[()] = (1, 1)
        return Document(file, data or None, marks)
    table = data.get("tool", {}).get("falyx") if isinstance(data.get("tool"), dict) else None
    if table is None:
        raise ConfigFileError([Problem(name, "no [tool.falyx] table in this pyproject.toml")])
    prefix = ("tool", "falyx")
    inner = {path[2:]: mark for path, mark in marks.items() if path[:2] == prefix}
    return Document(file, table or None, inner, prefix="tool.falyx")


class _Scanner:
    """Records the (line, column) where each key path and array item of a TOML text starts.

    The text is known to be valid TOML; the scanner never reports errors of its own.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self._starts = [0, *(m.end() for m in re.finditer("\n", text))]
        self.marks: dict[DocPath, Mark] = {}
        self._arrays: dict[DocPath, int] = {}  # arrays of tables: how many seen so far

    def scan(self) -> dict[DocPath, Mark]:
        table: DocPath = ()
        while self._skip(newlines=True) < len(self.text):
            start = self._mark()
            if self.text.startswith("[[", self.pos):
                self.pos += 2
                path = self._resolve(self._key())
                index = self._arrays.get(path, 0)
                self._arrays[path] = index + 1
                table = (*path, index)
                self.marks.setdefault(path, start)
                self.marks[table] = start
                self._line_end()
            elif self.text[self.pos] == "[":
                self.pos += 1
                table = self._resolve(self._key())
                self.marks.setdefault(table, start)
                self._line_end()
            else:
                self._assignment(table)
        return self.marks

    def _resolve(self, keys: DocPath) -> DocPath:
        """A header path, with arrays of tables pointing at their last element."""
        path: DocPath = ()
        for key in keys:
            path = (*path, key)
            if path in self._arrays and path != keys:
                path = (*path, self._arrays[path] - 1)
        return path

    def _assignment(self, base: DocPath) -> None:
        start = self._mark()
        path = (*base, *self._key())
        self.marks[path] = start
        self._skip()
        self.pos += 1  # '='
        self._value(path)

    def _value(self, path: DocPath) -> None:
        self._skip()
        char = self.text[self.pos:self.pos + 1]
        if char == "{":
            self.pos += 1
            while self._skip(newlines=True) < len(self.text) and self.text[self.pos] != "}":
                if self.text[self.pos] == ",":
                    self.pos += 1
                    continue
                self._assignment(path)
            self.pos += 1
        elif char == "[":
            self.pos += 1
            index = 0
            while self._skip(newlines=True) < len(self.text) and self.text[self.pos] != "]":
                if self.text[self.pos] == ",":
                    self.pos += 1
                    continue
                self.marks[(*path, index)] = self._mark()
                self._value((*path, index))
                index += 1
            self.pos += 1
        elif char in ("'", '"'):
            self._string()
        else:
            while self.pos < len(self.text) and self.text[self.pos] not in ",]}\n#":
                self.pos += 1

    def _key(self) -> DocPath:
        keys = []
        while True:
            self._skip()
            if self.text[self.pos] in ("'", '"'):
                keys.append(self._string())
            else:
                found = _BARE.match(self.text, self.pos)
                end = found.end() if found else self.pos + 1
                keys.append(self.text[self.pos:end])
                self.pos = end
            self._skip()
            if self.text[self.pos:self.pos + 1] != ".":
                break
            self.pos += 1
        if self.text.startswith("]]", self.pos):
            self.pos += 2
        elif self.text[self.pos:self.pos + 1] == "]":
            self.pos += 1
        return tuple(keys)

    def _string(self) -> str:
        quote = self.text[self.pos]
        delimiter = quote * 3 if self.text.startswith(quote * 3, self.pos) else quote
        start = self.pos + len(delimiter)
        end = start
        while True:
            end = self.text.index(delimiter, end)
            escaped = quote == '"' and _odd_backslashes(self.text, end)
            if not escaped:
                break
            end += 1
        while self.text.startswith(quote, end + len(delimiter)) and len(delimiter) == 3:
            end += 1  # up to two quotes may end a multi-line string: """a"""""
        self.pos = end + len(delimiter)
        raw = self.text[start:end]
        return _ESCAPED_QUOTE.sub(lambda m: m[0][1], raw) if quote == '"' else raw

    def _skip(self, newlines: bool = False) -> int:
        """Skip spaces (and newlines and comments, when allowed); returns the position."""
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t\r" or (newlines and char == "\n"):
                self.pos += 1
            elif char == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            else:
                break
        return self.pos

    def _line_end(self) -> None:
        end = self.text.find("\n", self.pos)
        self.pos = len(self.text) if end < 0 else end

    def _mark(self) -> Mark:
        line = bisect.bisect_right(self._starts, self.pos)
        return line, self.pos - self._starts[line - 1] + 1


def _odd_backslashes(text: str, end: int) -> bool:
    count = 0
    while end - count - 1 >= 0 and text[end - count - 1] == "\\":
        count += 1
    return count % 2 == 1
