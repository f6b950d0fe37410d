"""Typed conversion of a document with msgspec, reporting every problem with its place.

msgspec stops at the first error of one `convert` call. The whole document is converted in
one call first (the fast path); only when that fails does `_Checker` walk the declared types,
converting each field and list item on its own so that msgspec still does all the type
checking while every problem of the file is found. Unknown fields get a "did you mean".

The same walk salvages what is valid, so the later stages (keys, refs, cycles, names) check
every command they can, not only those of a valid file: an invalid field is left out (its
struct is then *partial*: checked, never registered), an invalid list item of steps or
commands becomes None (indices stay those of the file), a missing required string stands
in as "?" (partial too). A struct whose own rules fail on the body (none, or two) is lost.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, Literal, TypeVar, Union, get_args, get_origin

import msgspec

from falyx.config.problems import DocPath, Problem
from falyx.config.source import Document

__all__ = ["Conversion", "convert", "friendly"]

T = TypeVar("T")
_AT = re.compile(r" - at `(?:key` in `)?\$([^`]*)`$")
_PART = re.compile(r"\.(\w+)|\[(\d+)\]|\[\.\.\.\]")
_FIELD_LINE = re.compile(r"^([a-z_]+)(?:\[(\d+)\])?: (.*)$")
_NAMES = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false",
          "object": "a mapping", "array": "a list", "null": "null"}
_LOST = object()  # what the walk returns for a value nothing of which converts
_STAND_IN = "?"  # a required string that is missing or invalid, in a partial struct


@dataclass
class Conversion(Generic[T]):
    """`value` converted (None when nothing converts); else the problems found and the
    value salvaged, with the paths of its `partial` structs."""

    value: T | None
    problems: list[Problem] = field(default_factory=list)
    partial: set[DocPath] = field(default_factory=set)


def convert(doc: Document, data: Any, tp: type[T], path: DocPath = ()) -> Conversion[T]:
    """`data` (found at `path` of `doc`) as `tp`, or what of it converts and every problem."""
    try:
        return Conversion(msgspec.convert(data, tp))
    except msgspec.ValidationError:
        pass
    checker = _Checker()
    value, found = checker.check(data, tp, path)
    found = found or [(path, "invalid value")]
    problems = [doc.problem(where, message) for where, message in found if not doc.moot(where)]
    return Conversion(None if value is _LOST else value, problems, checker.partial)


class _Checker:
    """Walks declared types: structs field by field, lists item by item, dicts entry by entry.

    `check` returns the value salvaged (or `_LOST`) and the problems found, as (path, message).
    """

    def __init__(self) -> None:
        self.partial: set[DocPath] = set()

    def check(self, value: Any, tp: Any, path: DocPath) -> tuple[Any, list[tuple[DocPath, str]]]:
        try:
            return msgspec.convert(value, tp), []
        except msgspec.ValidationError as exc:
            error = str(exc)
        tp = _branch(_bare(tp), value)
        salvaged: Any = _LOST
        found: list[tuple[DocPath, str]] = []
        struct = _struct_in(tp)
        if struct is not None and isinstance(value, dict):
            salvaged, found = self._struct(value, struct, path)
        elif get_origin(tp) is list and isinstance(value, list):
            salvaged, found = self._list(value, get_args(tp)[0], path)
        elif get_origin(tp) is dict and isinstance(value, dict):
            salvaged, found = self._dict(value, *get_args(tp), path)
        if not found:  # the problem is this value's own: a struct's rules
            return (salvaged if struct is not None else _LOST), friendly(error, path)
        return salvaged, found

    def _struct(self, value: dict[Any, Any], struct: Any, path: DocPath) -> tuple[Any, list]:
        fields = {f.encode_name: f for f in msgspec.structs.fields(struct)}
        found: list[tuple[DocPath, str]] = []
        kept: dict[str, Any] = {}
        lost = False  # a field left out or salvaged: the struct is partial
        for key in value:
            if key not in fields:
                found.append(((*path, key), unknown_field(key, list(fields))))
        for name, info in fields.items():
            if name in value:
                converted, problems = self.check(value[name], info.type, (*path, name))
                found += problems
                if converted is not _LOST:
                    kept[info.name] = converted
                # a list of structs keeps its own marks: a None or partial item is not built
                lost = lost or converted is _LOST or bool(problems and not _struct_list(
                    info.type))
            elif info.required:
                found.append((path, f"missing required field '{name}'"))
        rules = getattr(struct, "rules", None)
        if found and rules is not None:  # the struct's own rules, on the fields as written
            for line in rules(value.get):
                found += friendly(line, path)
        return self._rebuild(struct, kept, lost, path), found

    def _rebuild(self, struct: Any, kept: dict[str, Any], lost: bool, path: DocPath) -> Any:
        """`struct` from the fields that converted; a field its rules refuse is left out."""
        required = [f for f in msgspec.structs.fields(struct) if f.required]
        for _ in range(2):  # once as kept, once without the fields the rules named
            for info in required:
                if info.name not in kept:
                    if _bare(info.type) is not str:
                        return _LOST
                    kept[info.name], lost = _STAND_IN, True
            try:
                rebuilt = struct(**kept)
            except ValueError as exc:  # the rules of __post_init__, one line per problem
                named = [_FIELD_LINE.match(line) for line in str(exc).splitlines()]
                if not all(named):
                    return _LOST  # a problem of the whole struct (its body): nothing to check
                for match in named:
                    kept.pop(match[1], None)  # type: ignore[index]
                lost = True
                continue
            except TypeError:
                return _LOST
            if lost:
                self.partial.add(path)
            return rebuilt
        return _LOST

    def _list(self, value: list[Any], item: Any, path: DocPath) -> tuple[Any, list]:
        found: list[tuple[DocPath, str]] = []
        items = []
        for i, element in enumerate(value):
            converted, problems = self.check(element, item, (*path, i))
            found += problems
            items.append(converted)
        if any(i is _LOST for i in items):
            if _struct_in(_bare(item)) is None:
                return _LOST, found  # a list of plain values is kept whole or not at all
            items = [None if i is _LOST else i for i in items]  # a step or command: None
        return items, found

    def _dict(self, value: dict[Any, Any], key_tp: Any, value_tp: Any,
              path: DocPath) -> tuple[Any, list]:
        found: list[tuple[DocPath, str]] = []
        allowed = _literal_values(key_tp)
        kept: dict[Any, Any] = {}
        for key, element in value.items():
            if allowed and key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"use {', '.join(allowed)}"
                found.append(((*path, key), f"unknown key {key!r}; {hint}"))
            elif not isinstance(key, str):
                found.append(((*path, key), f"keys must be strings, got {key!r}"))
            else:
                converted, problems = self.check(element, value_tp, (*path, key))
                found += problems
                kept[key] = converted
        return (_LOST if any(v is _LOST for v in kept.values()) else kept), found


def unknown_field(key: Any, known: list[str]) -> str:
    """`unknown field 'retri'; did you mean 'retry'?`."""
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else f"known fields: {', '.join(known)}"
    return f"unknown field {key!r}; {hint}"


def friendly(error: str, path: DocPath) -> list[tuple[DocPath, str]]:
    """msgspec's message as problems: its `- at $.x[0]` suffix extends `path`."""
    found = _AT.search(error)
    if found:
        error = error[:found.start()]
        for name, index in _PART.findall(found[1]):
            if name or index:
                path = (*path, name or int(index))
    out = []
    for line in error.splitlines():  # a struct's own check may report several problems
        named = _FIELD_LINE.match(line)
        if named:
            head, index, message = named.groups()
            where = (*path, head) if index is None else (*path, head, int(index))
            out.append((where, message))
        else:
            out.append((path, _rephrase(line)))
    return out


def _rephrase(message: str) -> str:
    found = re.match(r"Expected `(.+?)`(?:, got `(.+?)`| (>=|>) (\S+))?$", message)
    if found is None:
        return message
    wanted, got, op, bound = found.groups()
    if op:
        return f"must be {op} {_number(bound)}"
    names = [_NAMES.get(t, t) for t in wanted.split(" | ") if t != "null"]
    text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"expected {text}" + (f", got {_NAMES.get(got, got)}" if got else "")


def _number(text: str) -> str:
    return text[:-2] if text.endswith(".0") else text


def _bare(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _branch(tp: Any, value: Any) -> Any:
    """The member of a union that a list or mapping value was meant for (`list[X] | None`)."""
    if not _is_union(tp) or not isinstance(value, (list, dict)):
        return tp
    kind = list if isinstance(value, list) else dict
    members = [m for m in map(_bare, get_args(tp))
               if get_origin(m) is kind or (kind is dict and _struct_in(m) is not None)]
    return members[0] if len(members) == 1 else tp


def _is_union(tp: Any) -> bool:
    return get_origin(tp) is Union or type(tp).__name__ == "UnionType"


def _struct_in(tp: Any) -> Any:
    """The struct class `tp` is, or the only struct in a union (`str | StepSpec`)."""
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return tp
    if _is_union(tp):
        structs = [_struct_in(_bare(member)) for member in get_args(tp)]
        structs = [s for s in structs if s is not None]
        return structs[0] if len(structs) == 1 else None
    return None


def _struct_list(tp: Any) -> bool:
    """Whether `tp` is a list of structs (commands, steps), possibly optional."""
    tp = _bare(tp)
    if _is_union(tp):
        return any(_struct_list(member) for member in get_args(tp))
    return get_origin(tp) is list and _struct_in(_bare(get_args(tp)[0])) is not None


def _literal_values(tp: Any) -> list[str]:
    tp = _bare(tp)
    return [str(v) for v in get_args(tp)] if get_origin(tp) is Literal else []

