"""falyx's own options convert the same on every Typer allowed (falyx.cli.conversion)."""

from __future__ import annotations

import enum
from types import SimpleNamespace
from typing import Any

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st

from falyx import Falyx
from falyx.cli.conversion import OwnConversion, convert_own_options
from falyx.testing import run_cli


class Format(str, enum.Enum):
    rich = "rich"
    json = "json"


def convert(conversion: OwnConversion, value: Any) -> Any:
    return conversion.coerce(value, param=None, ctx=None)


@given(st.integers(min_value=0))
def test_an_int_at_or_above_its_minimum_converts_from_its_text(number: int) -> None:
    assert convert(OwnConversion(int, minimum=0), str(number)) == number


@given(st.integers(max_value=-1))
def test_an_int_below_its_minimum_is_refused_with_clicks_words(number: int) -> None:
    with pytest.raises(typer.BadParameter, match=rf"^{number} is not in the range x>=0\.$"):
        convert(OwnConversion(int, minimum=0), str(number))


@given(st.floats(min_value=0.0, allow_infinity=False))
def test_a_float_converts_from_its_text(number: float) -> None:
    assert convert(OwnConversion(float, minimum=0.0), repr(number)) == number


@pytest.mark.parametrize(("kind", "minimum", "maximum", "value", "message"), [
    (int, None, None, "many", "'many' is not a valid int."),
    (int, 0, None, "x", "'x' is not a valid int range."),
    (float, 0.0, None, "x", "'x' is not a valid float range."),
    (float, 0.0, None, "-1", "-1.0 is not in the range x>=0.0."),
    (int, None, 10, "11", "11 is not in the range x<=10."),
    (int, 1, 10, "0", "0 is not in the range 1<=x<=10."),
])
def test_bad_numbers_get_clicks_message(kind: type, minimum: Any, maximum: Any, value: str,
                                        message: str) -> None:
    with pytest.raises(typer.BadParameter) as error:
        convert(OwnConversion(kind, minimum, maximum), value)
    assert error.value.message == message


def test_an_enum_option_matches_its_values_in_any_case_when_told_to() -> None:
    insensitive, sensitive = OwnConversion(Format, case_sensitive=False), OwnConversion(Format)

    assert convert(insensitive, "JSON") is Format.json
    assert convert(sensitive, "json") is Format.json
    assert convert(sensitive, Format.rich) is Format.rich  # the default passes through
    with pytest.raises(typer.BadParameter, match=r"^'JSON' is not one of 'rich', 'json'\.$"):
        convert(sensitive, "JSON")


def test_none_stays_none_and_flags_stay_bools() -> None:
    assert convert(OwnConversion(int, minimum=0), None) is None
    assert convert(OwnConversion(bool), True) is True
    with pytest.raises(typer.BadParameter, match=r"^'yes' is not a valid boolean\.$"):
        convert(OwnConversion(bool), "yes")


@pytest.mark.parametrize(("argv", "message"), [
    (["run", "N", "--retries", "x", "-y"],
     "Invalid value for '--retries': 'x' is not a valid int range."),
    (["run", "--retries", "-1", "N", "-y"],
     "Invalid value for '--retries': -1 is not in the range x>=0."),
    (["noop", "--retry-delay", "soon"],
     "Invalid value for '--retry-delay': 'soon' is not a valid float range."),
    (["--log-format", "xml", "run", "N"],
     "Invalid value for '--log-format' (env var: 'FALYX_LOG_FORMAT'): 'xml' is not one of "
     "'rich', 'json'."),
    (["history", "--limit", "0"], "Invalid value for '--limit': 0 is not in the range x>=1."),
    (["history", "--status", "bogus"],
     "Invalid value for '--status': 'bogus' is not one of 'ok', 'error', 'cancelled'."),
], ids=["retries-type", "retries-range", "delay", "log-format", "limit", "status"])
def test_a_bad_value_of_falyx_own_options_gets_the_same_line_on_every_typer(
    argv: list[str], message: str
) -> None:
    app = Falyx("Tools", program="tools")
    app.add_command("N", "Nothing", lambda: None, name="noop")

    result = run_cli(app, argv)

    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {message} Try 'tools ")
    assert len(result.stderr.splitlines()) == 1


def test_falyx_own_options_give_the_command_converted_values() -> None:
    app = Falyx("Tools", program="tools")
    seen: list[Any] = []
    app.add_command("F", "Flaky", lambda: seen.append(1) or 1 / 0, name="flaky")

    result = run_cli(app, ["--log-format", "JSON", "run", "F", "--retries", "2",
                           "--retry-delay", "0", "--json", "-y"])

    assert result.exit_code == 1
    assert len(seen) == 3  # 1 + the two retries --retries asked for
    assert '"status": "ERROR"' in result.stdout


def _param(name: str, annotation: Any, **fields: Any) -> SimpleNamespace:
    descriptor = SimpleNamespace(annotation=annotation, case_sensitive=True)
    return SimpleNamespace(name=name, type_descriptor=descriptor, multiple=False, nargs=1,
                           min=None, max=None, **fields)


def test_only_the_named_simple_options_of_a_typer_with_the_slot_get_falyx_conversion() -> None:
    params = [_param("retries", int, _runtime_param=None),
              _param("target", str, _runtime_param=None),  # a user's: not named
              _param("paths", list[str], _runtime_param=None),  # not a simple type
              _param("delay", float)]  # no slot: Typer 0.28, or a later Typer

    convert_own_options(params, names=["retries", "paths", "delay"])

    assert isinstance(params[0]._runtime_param, OwnConversion)
    assert params[1]._runtime_param is None and params[2]._runtime_param is None
    assert not hasattr(params[3], "_runtime_param")
