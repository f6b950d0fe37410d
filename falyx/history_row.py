"""One stored history record (`HistoryRow`) and how a result is kept (DESIGN §2.8).

A result is stored as a JSON value (`result_format` "json") when it is JSON data that fits in
`RESULT_CHARS`: None, a bool, an int, a finite float, a str, a list or tuple, or a dict with
str keys, nested. Anything else is stored as its repr, cut to `RESULT_CHARS` (`"repr"`).
Nothing is stored (`result_format` None) when the step failed or `record_result` is False.
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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from falyx.context import ExecutionContext

__all__ = ["ERROR_CHARS", "JSON_KEYS", "RESULT_CHARS", "TRACEBACK_CHARS", "HistoryRow",
           "encode_result", "result_from_repr"]

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
            return json.loads(self.result)
        except ValueError:  # written by something else than falyx: show the text
            return self.result

    def as_json(self) -> dict[str, Any]:
        """The `history --json` object: fixed keys, the result as a JSON value, ISO-8601 times."""
        data = {key: getattr(self, key) for key in JSON_KEYS}
        data["result"] = self.value
        data["start"], data["end"] = _iso(self.start), _iso(self.end)
        return data


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc).isoformat()


def encode_result(value: Any) -> tuple[str, str]:
    """`(text, "json")` for JSON data that fits `RESULT_CHARS`, else `(bounded repr, "repr")`."""
    try:
        text = _ENCODER.encode(value) if _json_budget(value, RESULT_CHARS) is not None else None
    except (TypeError, ValueError, RecursionError):  # e.g. an int of over 4,300 digits
        text = None
    if text is not None and len(text) <= RESULT_CHARS:
        return text, JSON
    return _bounded_repr(value), REPR


def result_from_repr(text: str) -> tuple[str, str]:
    """A result stored as a repr (schema 1): JSON when it is the repr of JSON data."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return text, REPR
    encoded, result_format = encode_result(value)
    return (encoded, JSON) if result_format == JSON else (text, REPR)


_SCALARS = (type(None), bool, int, str)


def _json_budget(value: Any, budget: int) -> int | None:
    """What is left of `budget` (JSON characters, roughly) once `value` is written; None when
    `value` is not exactly JSON data or does not fit. The work is bounded by `budget`."""
    kind = type(value)
    if kind is str:
        budget -= len(value) + 2
    elif kind is int or kind is bool:
        budget -= value.bit_length() * 3 // 10 + 2  # decimal digits, over-estimated
    elif kind is float:
        budget -= 8 if math.isfinite(value) else budget + 1  # NaN and inf are not JSON
    elif value is None:
        budget -= 4
    elif kind is dict:
        budget -= 2
        for key, item in value.items():
            if type(key) is not str or budget < 0:
                return None
            left = _json_budget(item, budget - len(key) - 4)
            if left is None:
                return None
            budget = left
    elif kind is list or kind is tuple:
        budget -= 2
        for item in value:
            left = _json_budget(item, budget - 1) if budget >= 0 else None
            if left is None:
                return None
            budget = left
    else:
        return None
    return budget if budget >= 0 else None


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
