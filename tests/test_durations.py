"""Seconds shown without useless zeros (`60s`, `1.5s`), in the summary and history tables."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from falyx import render
from falyx.context import ExecutionContext
from falyx.durations import format_seconds
from falyx.history_row import HistoryRow


@pytest.mark.parametrize(("seconds", "text"), [
    (60, "60s"), (60.0, "60s"), (1.5, "1.5s"), (0.25, "0.25s"), (0.2014, "0.201s"),
    (0, "0s"), (0.0004, "<0.001s"), (-0.0001, "0s"), (90061.5, "90061.5s"), (2.9999, "3s"),
])
def test_seconds_are_shown_without_useless_zeros(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text


def test_digits_choose_the_rounding_and_must_not_be_negative() -> None:
    assert format_seconds(1.26, digits=1) == "1.3s"
    assert format_seconds(7.9, digits=0) == "8s"
    with pytest.raises(ValueError, match="digits"):
        format_seconds(1, digits=-1)


@given(st.floats(min_value=0, max_value=1e7, allow_nan=False))
def test_shown_seconds_read_back_within_the_rounding(seconds: float) -> None:
    text = format_seconds(seconds)
    assert text.endswith("s") and not text[:-1].endswith(".")
    if text.startswith("<"):  # positive, and rounds to zero
        assert text == "<0.001s" and 0 < seconds < 0.0005 + 1e-12
        return
    assert "." not in text or not text[:-1].endswith("0")
    assert math.isclose(float(text[:-1]), seconds, abs_tol=0.0005 + 1e-9)


def duration_cells(text: str) -> list[str]:
    return [cell.strip() for line in text.splitlines() if "│" in line
            for cell in line.split("│") if cell.strip().endswith("s") and
            cell.strip()[:-1].replace(".", "").isdigit()]


@pytest.mark.parametrize(("seconds", "shown"), [(2.0, "2s"), (1.5, "1.5s"), (0.2014, "0.201s")])
def test_summary_history_table_and_run_tree_show_durations_the_same_way(
        seconds: float, shown: str) -> None:
    console = render.make_console()
    ctx = ExecutionContext("release", duration=seconds, status="OK", attempts=1, run_id="r1")
    row = HistoryRow.of(ctx, 1, None)
    with console.capture() as captured:
        render.render_summary([ctx], console)
        render.render_history_table([row], console)
        render.render_run_tree([row], console)
    text = captured.get()

    assert duration_cells(text) == [shown, shown]
    assert f"release [{row.kind}] " in text and f" {shown}  " in text
