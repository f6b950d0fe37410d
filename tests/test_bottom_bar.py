"""The bottom bar's data: statics, counters, toggles, and the keys it refuses."""

from __future__ import annotations

import pytest

from falyx.bottom_bar import RESERVED_KEYS, BottomBar


@pytest.mark.parametrize("key", sorted(RESERVED_KEYS | {"C", "D"}))
def test_reserved_toggle_keys_are_rejected_with_a_clear_error(key: str) -> None:
    with pytest.raises(ValueError, match="reserved"):
        BottomBar().add_toggle(key, "verbose")


@pytest.mark.parametrize("key", ["", "vv", "1", "?"])
def test_toggle_key_must_be_one_letter(key: str) -> None:
    with pytest.raises(ValueError, match="one letter"):
        BottomBar().add_toggle(key, "x")


def test_toggle_flips_calls_on_change_and_shows_its_state() -> None:
    seen: list[bool] = []
    bar = BottomBar()
    toggle = bar.add_toggle("V", "verbose", on_change=seen.append)
    assert bar.render_parts() == [("toggle-off", "^V verbose: OFF")]
    assert toggle.flip() is True and bool(toggle)
    assert seen == [True]
    assert bar.render_parts() == [("toggle-on", "^V verbose: ON")]


def test_duplicate_toggle_key_is_rejected() -> None:
    bar = BottomBar()
    bar.add_toggle("v", "verbose")
    with pytest.raises(ValueError, match="already bound"):
        bar.add_toggle("V", "other")


def test_counters_and_statics_are_read_each_time_the_bar_is_drawn() -> None:
    count = {"n": 0}
    bar = BottomBar()
    bar.add_static("env", lambda: f"env={count['n']}")
    bar.add_counter("runs", "Runs", lambda: count["n"])
    bar.add_counter("jobs", lambda: count["n"] * 2)
    count["n"] = 3
    assert [text for _, text in bar.render_parts()] == ["env=3", "Runs: 3", "jobs: 6"]


def test_counter_needs_a_callable_getter() -> None:
    with pytest.raises(TypeError, match="callable"):
        BottomBar().add_counter("runs", "Runs", 5)
