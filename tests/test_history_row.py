"""How a result is stored: a JSON value when it is JSON data that fits, else a bounded repr."""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from falyx.context import ExecutionContext
from falyx.history_row import (
    ERROR_CHARS,
    RESULT_CHARS,
    TRACEBACK_CHARS,
    HistoryRow,
    encode_result,
    result_from_repr,
)

#: JSON data as Python gives it back from `json.loads`.
json_data = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=60),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=6),
    max_leaves=40,
)


def _row(result: Any, **fields: Any) -> HistoryRow:
    ctx = ExecutionContext("step", id=1, run_id="r", status="OK", attempts=1, result=result,
                           **fields)
    return HistoryRow.of(ctx, 1, None)


@settings(max_examples=300, deadline=None)
@given(json_data)
def test_json_data_round_trips_exactly_when_it_fits(value: Any) -> None:
    text, fmt = encode_result(value)
    fits = len(json.dumps(value, ensure_ascii=False)) <= RESULT_CHARS
    assert fmt == ("json" if fits else "repr")
    assert len(text) <= RESULT_CHARS
    if fits:
        assert _row(value).as_json()["result"] == value


@settings(max_examples=300, deadline=None)
@given(json_data)
def test_a_stored_repr_of_json_data_becomes_that_json_value(value: Any) -> None:
    text, fmt = result_from_repr(repr(value))
    fits = len(json.dumps(value, ensure_ascii=False)) <= RESULT_CHARS
    assert fmt == ("json" if fits else "repr")
    assert json.loads(text) == value if fits else text == repr(value)


@pytest.mark.parametrize(("value", "expected"), [
    ((1, "a"), [1, "a"]),  # a tuple is a JSON array, as `run --json` gives it
    ([("build", "ok"), ("test", 3)], [["build", "ok"], ["test", 3]]),  # a group's result
    ({"nested": {"list": [None, True, 1.5]}}, {"nested": {"list": [None, True, 1.5]}}),
    ("héllo ✓", "héllo ✓"),
])
def test_json_data_is_stored_as_a_json_value(value: Any, expected: Any) -> None:
    row = _row(value)
    assert row.result_format == "json" and row.as_json()["result"] == expected


class Point:
    def __repr__(self) -> str:
        return "Point(1, 2)"


@pytest.mark.parametrize(("value", "stored"), [
    ({1, 2}, "{1, 2}"),
    ({1: "a"}, "{1: 'a'}"),  # JSON would turn the key into "1"
    (float("nan"), "nan"),
    (float("inf"), "inf"),
    (b"bytes", "b'bytes'"),
    (date(2026, 11, 30), "datetime.date(2026, 11, 30)"),
    (Point(), "Point(1, 2)"),
    ([1, Point()], "[1, Point(1, 2)]"),
    (OrderedDict(a=1), "OrderedDict({'a': 1})"),  # a dict subclass is not plain JSON data
])
def test_other_values_are_stored_as_their_repr(value: Any, stored: str) -> None:
    row = _row(value)
    assert row.result_format == "repr"
    if not isinstance(value, OrderedDict):  # its repr differs across Python versions
        assert row.result == stored and row.as_json()["result"] == stored


@pytest.mark.parametrize("value", [
    "x" * (RESULT_CHARS + 1),
    list(range(10_000)),
    {f"k{i}": i for i in range(5_000)},
    [[[[["deep"] * 50] * 10]]],
])
def test_json_data_over_the_limit_is_a_cut_repr(value: Any) -> None:
    row = _row(value)
    assert row.result_format == "repr"
    assert row.result is not None and len(row.result) <= RESULT_CHARS


def test_a_value_that_contains_itself_is_a_repr_not_a_hang() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    text, fmt = encode_result(loop)
    assert fmt == "repr" and text.startswith("[1, [1, ") and "..." in text


def test_a_very_large_int_is_a_bounded_repr() -> None:
    text, fmt = encode_result(10**5000)  # str() refuses over 4,300 digits
    assert fmt == "repr" and len(text) <= RESULT_CHARS


def test_none_is_stored_as_json_null_and_failures_store_nothing() -> None:
    assert (_row(None).result, _row(None).result_format) == ("null", "json")
    failed_ctx = ExecutionContext("s", id=1, run_id="r", attempts=1)
    failed_ctx.fail(ValueError("x" * (ERROR_CHARS + 10)))
    failed = HistoryRow.of(failed_ctx, 2, None)
    assert (failed.result, failed.result_format, failed.error_type) == (None, None, "ValueError")
    assert failed.error is not None and len(failed.error) == ERROR_CHARS
    hidden = _row("hunter2", record_result=False)
    assert (hidden.result, hidden.result_format) == (None, None)


def test_a_long_traceback_keeps_its_end() -> None:
    ctx = ExecutionContext("s", id=1, run_id="r", attempts=1)
    ctx.fail(RuntimeError("boom"))
    ctx.traceback = "x" * TRACEBACK_CHARS + "RuntimeError: boom\n"
    stored = HistoryRow.of(ctx, 1, None).traceback
    assert stored is not None and len(stored) == TRACEBACK_CHARS
    assert stored.startswith("…") and stored.endswith("RuntimeError: boom\n")


def test_floats_keep_their_exact_value() -> None:
    for value in (0.1, -0.0, 1e-300, 1.7976931348623157e308):
        stored = _row(value).as_json()["result"]
        assert stored == value and math.copysign(1, stored) == math.copysign(1, value)
