"""Typed conversion of a document with msgspec, reporting every problem with its place.

msgspec stops at the first error of one `convert` call. The whole document is converted in
one call first (the fast path); only when that fails does `_Checker` walk the declared types,
converting each field and list item on its own so that msgspec still does all the type
checking while every problem of the file is found. Unknown fields get a "did you mean".
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import msgspec

from falyx.config.problems import DocPath, Problem
from falyx.config.source import Document

__all__ = ["convert", "friendly"]

T = TypeVar("T")
_AT = re.compile(r" - at `(?:key` in `)?\$([^`]*)`$")
_PART = re.compile(r"\.(\w+)|\[(\d+)\]|\[\.\.\.\]")
_NAMES = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false",
          "object": "a mapping", "array": "a list", "null": "null"}


def convert(doc: Document, data: Any, tp: type[T], path: DocPath = ()) -> tuple[T | None,
                                                                                list[Problem]]:
    """`data` (found at `path` of `doc`) as `tp`, or None and every problem found."""
    try:
        return msgspec.convert(data, tp), []
    except msgspec.ValidationError:
        pass
    problems = [doc.problem(where, message) for where, message in _Checker().check(data, tp, path)]
    return None, problems or [doc.problem(path, "invalid value")]


class _Checker:
    """Walks declared types: structs field by field, lists item by item, dicts entry by entry."""

    def check(self, value: Any, tp: Any, path: DocPath) -> list[tuple[DocPath, str]]:
        try:
            msgspec.convert(value, tp)
            return []
        except msgspec.ValidationError as exc:
            error = str(exc)
        tp = _branch(_bare(tp), value)
        found: list[tuple[DocPath, str]] = []
        struct = _struct_in(tp)
        if struct is not None and isinstance(value, dict):
            found = self._struct(value, struct, path)
        elif get_origin(tp) is list and isinstance(value, list):
            (item,) = get_args(tp)
            for i, element in enumerate(value):
                found += self.check(element, item, (*path, i))
        elif get_origin(tp) is dict and isinstance(value, dict):
            found = self._dict(value, *get_args(tp), path)
        return found or friendly(error, path)

    def _struct(self, value: dict[Any, Any], struct: Any, path: DocPath) -> list:
        fields = {f.encode_name: f for f in msgspec.structs.fields(struct)}
        found: list[tuple[DocPath, str]] = []
        for key in value:
            if key not in fields:
                found.append(((*path, key), unknown_field(key, list(fields))))
        for name, info in fields.items():
            if name in value:
                found += self.check(value[name], info.type, (*path, name))
            elif info.required:
                found.append((path, f"missing required field '{name}'"))
        rules = getattr(struct, "rules", None)
        if found and rules is not None:  # the struct's own rules, on the fields as written
            for line in rules(value.get):
                found += friendly(line, path)
        return found

    def _dict(self, value: dict[Any, Any], key_tp: Any, value_tp: Any, path: DocPath) -> list:
        found: list[tuple[DocPath, str]] = []
        allowed = _literal_values(key_tp)
        for key, element in value.items():
            if allowed and key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"use {', '.join(allowed)}"
                found.append(((*path, key), f"unknown key {key!r}; {hint}"))
            elif not isinstance(key, str):
                found.append(((*path, key), f"keys must be strings, got {key!r}"))
            else:
                found += self.check(element, value_tp, (*path, key))
        return found


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
        field = re.match(r"^([a-z_]+(?:\[\d+\])?): (.*)$", line)
        if field:
            head, index = re.match(r"([a-z_]+)(?:\[(\d+)\])?", field[1]).groups()  # type: ignore[union-attr]
            where = (*path, head) if index is None else (*path, head, int(index))
            out.append((where, field[2]))
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


def _literal_values(tp: Any) -> list[str]:
    tp = _bare(tp)
    return [str(v) for v in get_args(tp)] if get_origin(tp) is Literal else []

