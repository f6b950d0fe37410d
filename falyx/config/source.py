"""Reading a config file into plain data plus the position of every value.

YAML is composed into PyYAML's node tree (the C parser when available) and turned into data
here, so every key and item keeps its line and column, duplicate keys are caught, and only
plain-data tags are accepted (`!!python/...` is refused with its line, never constructed).
TOML is parsed by tomllib; positions come from `falyx.config.toml_marks`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from falyx.config.problems import ConfigFileError, DocPath, Problem, display_path, format_path

__all__ = ["Document", "read_document"]

Mark = tuple[int, "int | None"]
_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "timestamp", "binary")}
_MAX_VALUES = 200_000  # an alias bomb expands to far more; a real config to far fewer


@dataclass
class Document:
    """A parsed config file: its data and where each value is (1-based line, column)."""

    file: Path
    data: Any
    marks: dict[DocPath, Mark] = field(default_factory=dict)
    prefix: str = ""  # `tool.falyx` for pyproject.toml
    #: Problems found while reading that still leave data to check (duplicate keys, tags).
    problems: list[Problem] = field(default_factory=list)
    #: Where a refused value stands as None: later checks there and of its mapping are moot.
    refused: list[DocPath] = field(default_factory=list)

    @property
    def name(self) -> str:
        return display_path(self.file)

    def problem(self, path: DocPath, message: str) -> Problem:
        """A problem at `path`, placed at the nearest position known for it."""
        for end in range(len(path), -1, -1):
            mark = self.marks.get(path[:end])
            if mark is not None:
                return Problem(self.name, message, self.path_text(path), mark[0], mark[1])
        return Problem(self.name, message, self.path_text(path))

    def moot(self, path: DocPath) -> bool:
        """Whether a problem at `path` follows from a refused value (already reported): it
        is at or below that value, or it is the mapping holding it (a body, a required
        field: what that mapping has is unknown)."""
        return any(path[:len(where)] == where or path == where[:-1] for where in self.refused)

    def path_text(self, path: DocPath) -> str:
        return format_path(path, self.prefix) or "top level"


def read_document(file: Path) -> Document:
    """Parse `file` (by its name: *.yaml/*.yml, *.toml, pyproject.toml).

    Duplicate keys and refused tags (YAML) are in `Document.problems`: the rest of the file
    is still checked, so every problem is reported at once.

    Raises:
        ConfigFileError: unreadable, not UTF-8, a syntax error (with the problems found
            before it), or empty.
    """
    name = display_path(file)
    kind = _kind(file)
    if kind is None:
        raise ConfigFileError([Problem(name, "unknown config format; use a .yaml, .yml or "
                                             ".toml file, or pyproject.toml")])
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigFileError([Problem(name, f"cannot read the file: {exc.strerror}")]) from None
    text = _decode(raw, name)
    if kind == "yaml":
        doc = _YamlReader(file).read(text)
    else:
        from falyx.config.toml_marks import read_toml

        doc = read_toml(file, text, pyproject=kind == "pyproject")
    if doc.data is None:
        raise ConfigFileError([Problem(name, "the file is empty; a config needs 'commands' "
                                             "(see 'falyx init')", line=1, column=1)])
    return doc


def _kind(file: Path) -> str | None:
    if file.name == "pyproject.toml":
        return "pyproject"
    return {".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}.get(file.suffix.lower())


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigFileError([Problem(
            name, f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8",
            line=line, column=column)]) from None


class _YamlReader:
    """Turns a YAML node tree into data, recording marks and every problem found."""

    def __init__(self, file: Path) -> None:
        self.doc = Document(file, None)
        self.problems: list[Problem] = []
        self._open: set[int] = set()  # collections being read: an alias to one is a cycle
        self._count = 0

    def read(self, text: str) -> Document:
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                self.doc.marks[()] = _mark(node)
                self.doc.data = self._value(loader, node, ())
        except yaml.MarkedYAMLError as exc:
            raise ConfigFileError([*self.problems, self._syntax_problem(exc, text)]) from None
        finally:
            loader.dispose()
        self.doc.problems = self.problems
        return self.doc

    def _syntax_problem(self, exc: Any, text: str) -> Problem:
        mark = exc.problem_mark or exc.context_mark
        message = str(exc.problem or exc.context or "invalid YAML")
        if mark is not None and text[mark.index:mark.index + 1] == "\t":
            message = "a tab character; YAML is indented with spaces only"
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        return Problem(self.doc.name, f"YAML syntax error: {message}", line=line, column=column)

    def _value(self, loader: Any, node: Any, path: DocPath) -> Any:
        import yaml

        self._count += 1
        if self._count > _MAX_VALUES:
            raise yaml.MarkedYAMLError(problem=f"more than {_MAX_VALUES} values (an alias "
                                       "expanding too far?)", problem_mark=node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                return self._refuse(node, path, _tag_message(node.tag))
            return loader.construct_object(node, deep=True)
        if id(node) in self._open:
            return self._refuse(node, path, "an alias refers to a value that contains it")
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode) and node.tag == _STD + "map":
                return self._mapping(loader, node, path)
            if isinstance(node, yaml.SequenceNode) and node.tag == _STD + "seq":
                return [self._item(loader, child, (*path, i))
                        for i, child in enumerate(node.value)]
            return self._refuse(node, path, _tag_message(node.tag))
        finally:
            self._open.discard(id(node))

    def _item(self, loader: Any, node: Any, path: DocPath) -> Any:
        self.doc.marks[path] = _mark(node)
        return self._value(loader, node, path)

    def _mapping(self, loader: Any, node: Any, path: DocPath) -> dict[Any, Any]:
        import yaml

        own = sum(1 for key, _ in node.value if key.tag != _STD + "merge")
        loader.flatten_mapping(node)  # `<<: *defaults` merges come first, then own keys
        merged = len(node.value) - own
        data: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for i, (key_node, value_node) in enumerate(node.value):
            if not isinstance(key_node, yaml.ScalarNode):
                self._report(key_node, path, "a mapping key must be a plain value")
                continue
            key = self._value(loader, key_node, path)
            if i >= merged:  # a merged key may be overridden; an own key only once
                if key in first_line:
                    self._report(key_node, (*path, key),
                                 f"duplicate key {key!r} (first on line {first_line[key]})")
                    continue
                first_line[key] = key_node.start_mark.line + 1
            self.doc.marks[(*path, key)] = _mark(key_node)
            data[key] = self._value(loader, value_node, (*path, key))
        return data

    def _refuse(self, node: Any, path: DocPath, message: str) -> None:
        """A value that is not read: None stands in for it, its problem is recorded."""
        self.doc.refused.append(path)
        self._report(node, path, message)

    def _report(self, node: Any, path: DocPath, message: str) -> None:
        """Record a problem at `node` and read on: every problem of the file is reported."""
        line, column = _mark(node)
        self.problems.append(Problem(self.doc.name, message, self.doc.path_text(path),
                                     line, column))


def _mark(node: Any) -> Mark:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _tag_message(tag: str) -> str:
    shown = "!!" + tag.removeprefix(_STD) if tag.startswith(_STD) else tag
    return (f"tag '{shown}' is refused: a config holds plain data only (strings, numbers, "
            "booleans, lists, mappings), and nothing in it is executed")
