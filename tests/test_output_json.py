"""Every JSON falyx prints is strict JSON (no NaN), and a result reads the same in a run's
`--json`, in `run-all --json`, in `history --json` and in the history's `result_format`."""

from __future__ import annotations

import enum
import json
import logging
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from falyx import Falyx
from falyx.context import ExecutionContext
from falyx.history_row import RESULT_CHARS, HistoryRow, encode_result, json_value
from falyx.testing import run_cli


def strict_loads(text: str) -> Any:
    """`json.loads` that refuses NaN and the infinities, as every JSON reader outside Python."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


class Env(str, enum.Enum):
    prod = "prod"


class Level(enum.Enum):
    HIGH = 3


class Opaque:
    def __repr__(self) -> str:
        return "Opaque()"


# (a function's result, what --json and history --json show, the history's result_format)
CASES = [
    (float("nan"), "nan", "repr"),
    (float("inf"), "inf", "repr"),
    (-float("inf"), "-inf", "repr"),
    ([1.5, float("nan")], "[1.5, nan]", "repr"),
    ({"ratio": float("inf")}, "{'ratio': inf}", "repr"),
    (Path("/tmp/x"), "/tmp/x", "json"),
    ([Path("a/b"), {"out": PurePosixPath("/o")}], ["a/b", {"out": "/o"}], "json"),
    (Env.prod, "prod", "json"),
    ({"level": Level.HIGH}, {"level": 3}, "json"),
    ((1, "two"), [1, "two"], "json"),
    (Opaque(), "Opaque()", "repr"),
    ({1: "int key"}, "{1: 'int key'}", "repr"),
]


def returning(value: Any, tmp_path: Path) -> tuple[Falyx, list[str]]:
    app = Falyx("J", program="j")
    app.add_command("V", "Value", lambda: value, name="value", tags=["all"])
    app.add_command("O", "Other", lambda: 1, name="other", tags=["all"])
    return app, ["--history", str(tmp_path / "h.db")]


@pytest.mark.parametrize(("value", "shown", "result_format"), CASES)
def test_run_json_is_strict_and_agrees_with_the_history(
    value: Any, shown: Any, result_format: str, tmp_path: Path
) -> None:
    app, history = returning(value, tmp_path)

    ran = run_cli(app, [*history, "run", "V", "--json"])
    assert ran.exit_code == 0, ran.output
    assert strict_loads(ran.stdout)["result"] == shown

    listed = run_cli(app, [*history, "history", "--json", "--kind", "Command"])
    assert listed.exit_code == 0, listed.output
    (record,) = strict_loads(listed.stdout)
    assert record["result"] == shown and record["result_format"] == result_format


@pytest.mark.parametrize(("value", "shown", "result_format"), CASES[:6])
def test_run_all_json_lines_are_strict(
    value: Any, shown: Any, result_format: str, tmp_path: Path
) -> None:
    app, history = returning(value, tmp_path)

    ran = run_cli(app, [*history, "run-all", "-t", "all", "--json"])

    assert ran.exit_code == 0, ran.output
    results = {r["command"]: r["result"] for r in map(strict_loads, ran.stdout.splitlines())}
    assert results == {"V": shown, "O": 1}


def test_result_index_prints_a_path_as_its_text(tmp_path: Path) -> None:
    app, history = returning(Path("/srv/out dir"), tmp_path)
    assert run_cli(app, [*history, "run", "V"]).exit_code == 0

    shown = run_cli(app, [*history, "history", "--last-result"])

    assert shown.exit_code == 0 and shown.stdout == "/srv/out dir\n"


def test_json_log_lines_are_strict_whatever_a_record_carries() -> None:
    app = Falyx("J", program="j")

    @app.command(key="L")
    def log_odd_fields() -> None:
        logging.getLogger("falyx").warning(
            "odd fields", extra={"duration": float("nan"), "status": Path("/p"),
                                 "attempt": Opaque(), "action": Env.prod})

    ran = run_cli(app, ["--log-format", "json", "run", "L"])

    assert ran.exit_code == 0, ran.output
    (line,) = [line for line in ran.stderr.splitlines() if "odd fields" in line]
    record = strict_loads(line)
    assert (record["duration"], record["status"], record["attempt"], record["action"]) == (
        "nan", "/p", "Opaque()", "prod")


@pytest.mark.parametrize("stored", ["NaN", "[1, Infinity]", "-Infinity"])
def test_a_stored_non_json_constant_reads_as_its_text(stored: str) -> None:
    """A row written by something other than falyx may hold Python's JSON extensions."""
    row = HistoryRow(1, "r", None, "p", "C", "c", "Command", 0.0, 1.0, 1.0, "OK", 1,
                     stored, "json", None, None, None)

    assert row.value == stored
    assert strict_loads(json.dumps(row.as_json(), allow_nan=False))["result"] == stored


# -- the rule, for any value -----------------------------------------------------------------
class Colour(enum.Enum):
    RED = "red"
    NAN = float("nan")


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
    | st.builds(PurePosixPath, st.text(max_size=20)) | st.sampled_from(list(Colour))
    | st.just(Opaque()),
    lambda inner: st.lists(inner, max_size=5) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    | st.dictionaries(st.integers(), inner, min_size=1, max_size=2),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(values)
def test_json_value_is_strict_json_and_agrees_with_what_the_history_stores(value: Any) -> None:
    shown = json_value(value)
    text = json.dumps(shown, allow_nan=False, ensure_ascii=False)  # never raises
    assert strict_loads(text) == shown

    stored, result_format = encode_result(value)
    if result_format == "json":
        assert strict_loads(stored) == shown
    else:  # a repr: either what --json shows too, or JSON data too long for the history
        assert stored == shown or len(text) > RESULT_CHARS


def test_a_history_row_and_the_run_json_agree_on_a_path() -> None:
    ctx = ExecutionContext("step", id=1, run_id="r", status="OK", attempts=1,
                           result=Path("/tmp/x"))
    row = HistoryRow.of(ctx, 1, None)

    assert (row.result, row.result_format) == ('"/tmp/x"', "json")
    assert row.as_json()["result"] == json_value(ctx.result) == "/tmp/x"
