"""What the engine's messages say: durations without a useless `.0` (one formatting function,
`falyx.durations.format_seconds`), and the reason a fail_fast group gives its cancelled members."""

from __future__ import annotations

import asyncio
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from falyx import Action, ActionGroup
from falyx.durations import format_seconds
from falyx.errors import ActionGroupError, StepTimeoutError


@pytest.mark.parametrize(("seconds", "text"), [
    (1, "1s"), (1.0, "1s"), (60.0, "60s"), (1.5, "1.5s"), (0.25, "0.25s"), (0.01, "0.01s"),
    (0, "0s"), (1234567.0, "1234567s"), (0.0002, "<0.001s"), (2.5e-7, "<0.001s")])
def test_format_seconds_examples(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text


@given(st.floats(min_value=0.001, max_value=1e9, allow_nan=False))
def test_format_seconds_reads_back_within_half_a_millisecond(seconds: float) -> None:
    text = format_seconds(seconds)
    assert text.endswith("s") and not text.endswith(".0s") and "e" not in text
    assert math.isclose(float(text[:-1]), seconds, abs_tol=0.0005 + 1e-9 * seconds)


@given(st.integers(min_value=0, max_value=10**9))
def test_a_whole_number_of_seconds_shows_as_an_integer(seconds: int) -> None:
    assert format_seconds(float(seconds)) == f"{seconds}s"


async def test_a_config_style_float_timeout_reads_as_whole_seconds(registry) -> None:
    async def forever() -> None:
        await asyncio.Event().wait()

    step = Action("wait", forever, timeout=1.0)
    assert "⏱ Timeout: 1s" in step.preview().lines()[1]
    quick = Action("wait", forever, timeout=0.01)
    with pytest.raises(StepTimeoutError, match=r"^step 'wait' timed out after 0\.01s$"):
        await quick()
    assert str(registry.latest().exception) == "step 'wait' timed out after 0.01s"


@pytest.mark.parametrize("failing", [["bad"], ["bad", "worse"]])
async def test_fail_fast_records_why_each_sibling_was_cancelled(
    registry, failing: list[str]
) -> None:
    gate = asyncio.Event()

    async def fails() -> None:
        await gate.wait()
        raise ValueError("broken")

    async def slow() -> None:
        gate.set()
        await asyncio.Event().wait()

    members = [Action(name, fails) for name in failing] + [Action("slow", slow),
                                                           Action("slower", slow)]
    with pytest.raises(ActionGroupError):
        await ActionGroup("g", members, fail_fast=True)()

    names = ", ".join(f"'{n}'" for n in failing)
    for name in ("slow", "slower"):
        record = registry.records(name=name)[0]
        assert record.status == "CANCELLED"
        assert str(record.exception) == f"cancelled: member {names} failed (fail_fast)"


async def test_without_fail_fast_no_sibling_is_cancelled(registry) -> None:
    async def fails() -> None:
        raise ValueError("broken")

    with pytest.raises(ActionGroupError):
        await ActionGroup("g", [Action("bad", fails), Action("ok", lambda: 1)])()
    assert registry.records(name="ok")[0].status == "OK"
