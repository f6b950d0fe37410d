"""One stored history record (`HistoryRow`) and how a result is kept (DESIGN §2.8).

A result is stored as a JSON value (`result_format` "json") when it is JSON data that fits in
`RESULT_CHARS`: None, a bool, an int, a finite float, a str, a list or tuple, or a dict with
str keys, nested; a path counts as its text and an Enum member as its value. Anything else
(NaN, an object) is stored as its repr, cut to `RESULT_CHARS` (`"repr"`). Nothing is stored
(`result_format` None) when the step failed or `record_result` is False.

`json_value` applies the same rule, without the size limit, wherever falyx prints JSON
(`run --json`, JSON log lines), so a result reads the same in a run's JSON and in the history.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import math
import reprlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from falyx.context import ExecutionContext

__all__ = ["ERROR_CHARS", "JSON_KEYS", "RESULT_CHARS", "TRACEBACK_CHARS", "HistoryRow",
           "encode_result", "json_value", "result_from_repr"]

RESULT_CHARS = 1_000  # a stored result (JSON text or repr)
ERROR_CHARS = 2_000  # an exception's message
TRACEBACK_CHARS = 20_000  # the end of a traceback is the useful part; keep that
JSON_KEYS = ("index", "run_id", "parent", "command", "name", "kind", "start", "end", "duration",
             "status", "attempts", "result", "result_format", "error_type", "error", "traceback")
JSON, REPR = "json", "repr"
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)  # one, not one per call


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One stored step execution; `index` is its stable history index, times are epochs.

    `result` is JSON text when `result_format` is "json", a bounded repr when it is "repr",
    and None (with `result_format` None) when no result was stored.
    """

    index: int
    run_id: str
    parent: int | None
    program: str
    command: str | None
    name: str
    kind: str
    start: float | None
    end: float | None
    duration: float | None
    status: str
    attempts: int
    result: str | None
    result_format: str | None
    error_type: str | None
    error: str | None
    traceback: str | None

    @classmethod
    def of(cls, ctx: ExecutionContext, index: int, parent: int | None,
           program: str = "") -> HistoryRow:
        """The stored form of a record: its result, or its error and traceback if it failed."""
        failed = ctx.status != "OK" and ctx.exception is not None
        exc = ctx.exception if failed else None
        stored = ctx.record_result and ctx.status == "OK"
        result, result_format = encode_result(ctx.result) if stored else (None, None)
        return cls(
            index, ctx.run_id, parent, program, ctx.command, ctx.name, ctx.kind, ctx.start,
            ctx.end, ctx.duration, ctx.status, ctx.attempts, result, result_format,
            None if exc is None else type(exc).__name__,
            None if exc is None else clip(str(exc), ERROR_CHARS),
            clip(ctx.traceback, TRACEBACK_CHARS, keep_end=True) if failed else None,
        )

    @classmethod
    def read(cls, values: Sequence[Any]) -> HistoryRow:
        """A row from the file. A schema-1 result (a repr; `result_format` NULL) reads as the
        JSON value it is the repr of, where it is one, else as that repr."""
        row = cls(*values)
        if row.result is None or row.result_format is not None:
            return row
        result, result_format = result_from_repr(row.result)
        return dataclasses.replace(row, result=result, result_format=result_format)

    @property
    def value(self) -> Any:
        """The result as a Python value when stored as JSON, else its repr text (or None)."""
        if self.result_format != JSON or self.result is None:
            return self.result
        try:
            return json.loads(self.result, parse_constant=_not_json)
        except ValueError:  # written by something else than falyx (NaN too): show the text
            return self.result

    def as_json(self) -> dict[str, Any]:
        """The `history --json` object: fixed keys, the result as a JSON value, ISO-8601 times."""
        data = {key: getattr(self, key) for key in JSON_KEYS}
        data["result"] = self.value
        data["start"], data["end"] = _iso(self.start), _iso(self.end)
        return data


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc).isoformat()


def encode_result(value: Any) -> tuple[str, str]:
    """`(text, "json")` for JSON data that fits `RESULT_CHARS`, else `(bounded repr, "repr")`."""
    try:
        found = _to_json(value, RESULT_CHARS)
        text = None if found is None else _ENCODER.encode(found[0])
    except (TypeError, ValueError, RecursionError):
        text = None
    if text is not None and len(text) <= RESULT_CHARS:
        return text, JSON
    return _bounded_repr(value), REPR


def json_value(value: Any) -> Any:
    """`value` as JSON data, by the history's rule at any size: JSON data as itself (a tuple as
    a list), a path as its text, an Enum member as its value; anything else (NaN, infinities, an
    object) as the repr string the history would store. `json.dumps(..., allow_nan=False)` of
    the result never fails."""
    try:
        found = _to_json(value, math.inf)
    except RecursionError:
        found = None
    return _bounded_repr(value) if found is None else found[0]


def result_from_repr(text: str) -> tuple[str, str]:
    """A result stored as a repr (schema 1): JSON when it is the repr of JSON data."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return text, REPR
    encoded, result_format = encode_result(value)
    return (encoded, JSON) if result_format == JSON else (text, REPR)


_INT_DIGITS = 4_300  # CPython's default int <-> str limit (sys.set_int_max_str_digits)


def _to_json(value: Any, budget: float) -> tuple[Any, float] | None:
    """`(value as JSON data, what is left of budget)`; None when `value` is not JSON data (by
    the module's rule) or its JSON text (roughly counted) does not fit `budget` characters.
    The work is bounded by `budget`."""
    kind = type(value)
    if kind is str:
        budget -= len(value) + 2
    elif kind is int or kind is bool:
        digits = value.bit_length() * 3 // 10 + 2  # decimal digits, over-estimated
        if digits > _INT_DIGITS:
            return None
        budget -= digits
    elif kind is float:
        if not math.isfinite(value):  # NaN and inf are not JSON
            return None
        budget -= 8
    elif value is None:
        budget -= 4
    elif isinstance(value, PurePath):
        value = str(value)
        budget -= len(value) + 2
    elif isinstance(value, Enum):
        return _to_json(value.value, budget)
    elif kind is dict:
        return _dict_to_json(value, budget - 2)
    elif kind is list or kind is tuple:
        return _list_to_json(value, budget - 2)
    else:
        return None
    return (value, budget) if budget >= 0 else None


def _dict_to_json(value: dict[Any, Any], budget: float) -> tuple[Any, float] | None:
    data = {}
    for key, item in value.items():
        found = None if type(key) is not str or budget < 0 else \
            _to_json(item, budget - len(key) - 4)
        if found is None:
            return None
        data[key], budget = found
    return (data, budget) if budget >= 0 else None


def _list_to_json(value: list[Any] | tuple[Any, ...], budget: float
                  ) -> tuple[Any, float] | None:
    data = []
    for item in value:
        found = _to_json(item, budget - 1) if budget >= 0 else None
        if found is None:
            return None
        data.append(found[0])
        budget = found[1]
    return (data, budget) if budget >= 0 else None


_SCALARS = (type(None), bool, int, str)
_repr = reprlib.Repr()  # bounded: a huge result must not cost a huge repr
_repr.maxstring = _repr.maxother = _repr.maxlong = RESULT_CHARS
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = _repr.maxdeque = 100


def _bounded_repr(value: Any) -> str:
    if isinstance(value, str):
        value = value[:RESULT_CHARS]  # the repr of a huge string would cost its whole size
    try:  # builtin repr for scalars (fast); reprlib bounds the cost of containers and objects
        text = repr(value) if type(value) in _SCALARS else _repr.repr(value)
    except Exception as exc:  # a user's __repr__ may raise; history must not
        text = f"<unrepresentable {type(value).__name__}: {type(exc).__name__}>"
    return clip(text, RESULT_CHARS) or ""


def clip(text: str | None, limit: int, keep_end: bool = False) -> str | None:
    """`text` cut to `limit` characters, marked with `…` where it was cut."""
    if text is None or len(text) <= limit:
        return text
    return "…" + text[1 - limit:] if keep_end else text[: limit - 1] + "…"
