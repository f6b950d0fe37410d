"""One argument model: every path gives a command's function the same, Typer-converted values.

The table covers each kind of annotation Typer converts; every row goes through the named
subcommand and `run KEY` (both as `app(argv)` and with `falyx.testing.run_cli`), `run-all`
(defaults), the menu's `KEY --opt v` line, and `run_key`.
"""

from __future__ import annotations

import asyncio
import datetime
import enum
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Optional  # noqa: F401 - the table's annotations

import pytest
import typer
import typer.main

from falyx import Falyx
from falyx.cli import line_parser
from falyx.menu import handle_entry
from falyx.runner import Session
from falyx.testing import run_cli
from tests.conftest import TYPER_029


class Mode(str, enum.Enum):
    SAFE = "safe"
    FAST = "fast"


class Level(enum.Enum):
    LOW = 1
    HIGH = 2


@dataclass(frozen=True)
class Point:
    x: int
    y: int

    @staticmethod
    def parse(text: str | Point) -> Point:
        if isinstance(text, Point):  # Click passes the default through the parser too
            return text
        x, y = text.split(",")
        return Point(int(x), int(y))


UID = uuid.UUID("12345678-1234-5678-1234-567812345678")


@dataclass(frozen=True)
class Row:
    """`def k(v: annotation = default)` given `tokens` must receive `given` (else `default`)."""

    id: str
    annotation: str  # evaluated in this module's namespace
    default: str | None  # source of the default; None: required
    tokens: list[str]
    given: Any
    received_default: Any = None


ROWS = [
    Row("str", "str", "'x'", ["--v", "hello"], "hello", "x"),
    Row("int", "int", "1", ["--v", "42"], 42, 1),
    Row("float", "float", "1.5", ["--v", "2.5"], 2.5, 1.5),
    Row("bool", "bool", "False", ["--v"], True, False),
    Row("optional-int", "Optional[int]", "None", ["--v", "3"], 3, None),
    Row("uuid", "uuid.UUID", "None", ["--v", str(UID)], UID, None),
    Row("datetime", "datetime.datetime", "None", ["--v", "2024-01-02"],
        datetime.datetime(2024, 1, 2), None),
    Row("path", "Path", "Path('a')", ["--v", "b/c"], Path("b/c"), Path("a")),
    Row("path-from-str-default", "Path", "'a'", ["--v", "b"], Path("b"), Path("a")),
    Row("str-enum", "Mode", "Mode.SAFE", ["--v", "fast"], Mode.FAST, Mode.SAFE),
    Row("int-enum", "Level", "Level.LOW", ["--v", "2"], Level.HIGH, Level.LOW),
    Row("list", "list[str]", "['a']", ["--v", "x", "--v", "y"], ["x", "y"], ["a"]),
    Row("optional-list", "Optional[list[str]]", "None", ["--v", "x", "--v", "y"], ["x", "y"],
        None),
    Row("list-of-enum", "list[Mode]", "[]", ["--v", "fast", "--v", "safe"],
        [Mode.FAST, Mode.SAFE], []),
    Row("list-of-path", "list[Path]", "[]", ["--v", "a", "--v", "b"], [Path("a"), Path("b")],
        []),
    Row("tuple", "tuple[int, str]", "(1, 'x')", ["--v", "3", "y"], (3, "y"), (1, "x")),
    Row("tuple-of-enum-and-path", "tuple[Mode, Path]", "(Mode.SAFE, Path('a'))",
        ["--v", "fast", "b"], (Mode.FAST, Path("b")), (Mode.SAFE, Path("a"))),
    Row("literal", "Literal['a', 'b']", "'a'", ["--v", "b"], "b", "a"),
    Row("int-range", "Annotated[int, typer.Option(min=0, max=10)]", "5", ["--v", "7"], 7, 5),
    Row("count", "Annotated[int, typer.Option(count=True)]", "0", ["--v", "--v"], 2, 0),
    Row("parser", "Annotated[Point, typer.Option(parser=Point.parse)]", "Point(0, 0)",
        ["--v", "3,4"], Point(3, 4), Point(0, 0)),
    Row("argument", "int", None, ["5"], 5),
    Row("file", "typer.FileText", None, ["{file}"], "file text\n"),
]


def received(value: Any) -> Any:
    """What the function saw, exactly (types included: `Mode.FAST == 'fast'` holds too)."""
    if hasattr(value, "read"):
        return ("file", value.read(), value.closed)
    return (type(value), repr(value))


def expected(value: Any) -> Any:
    return ("file", value, False) if isinstance(value, str) and value.endswith("\n") \
        else received(value)


def make_app(row: Row, seen: list[Any]) -> Falyx:
    source = f"def k(v: {row.annotation}{'' if row.default is None else ' = ' + row.default}):" \
             "\n    seen.append(received(v))"
    namespace = {**globals(), "seen": seen}
    exec(source, namespace)
    app = Falyx("Types", program="types")
    app.add_command("K", "Keep", namespace["k"], name="keep", tags=["t"])
    return app


def tokens_for(row: Row, tmp_path: Path) -> list[str]:
    text = tmp_path / "input.txt"
    text.write_text("file text\n")
    return [t.replace("{file}", str(text)) for t in row.tokens]


def through_app(app: Falyx, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        app(argv)
    assert exit_info.value.code == 0


def through_run_cli(app: Falyx, argv: list[str]) -> None:
    result = run_cli(app, argv)
    assert result.exit_code == 0, result.output


def through_menu(app: Falyx, line: str) -> None:
    group = typer.main.get_command(app.typer)
    parse = line_parser(group.make_context(app.program, []))
    assert asyncio.run(handle_entry(app, Session(), line, parse)) is None


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_every_path_gives_the_function_the_same_converted_value(
    row: Row, tmp_path: Path
) -> None:
    seen: list[Any] = []
    app = make_app(row, seen)
    tokens = tokens_for(row, tmp_path)

    through_app(app, ["keep", *tokens])
    through_app(app, ["run", "k", *tokens])
    through_run_cli(app, ["keep", *tokens])
    through_run_cli(app, ["run", "K", *tokens])
    through_menu(app, " ".join(["k", *(f"'{t}'" for t in tokens)]))

    assert seen == [expected(row.given)] * 5


@pytest.mark.parametrize("row", [r for r in ROWS if r.default is not None],
                         ids=[r.id for r in ROWS if r.default is not None])
def test_without_options_every_path_gives_the_converted_default(row: Row) -> None:
    seen: list[Any] = []
    app = make_app(row, seen)

    through_app(app, ["keep"])
    through_app(app, ["run", "K"])
    through_app(app, ["run-all", "-t", "t"])
    through_run_cli(app, ["run-all", "--tag", "t"])
    through_menu(app, "k")

    assert seen == [expected(row.received_default)] * 5


@pytest.mark.parametrize("row", [r for r in ROWS if r.id != "file"],
                         ids=[r.id for r in ROWS if r.id != "file"])
def test_run_key_passes_python_values_as_given(row: Row) -> None:
    seen: list[Any] = []
    app = make_app(row, seen)

    assert asyncio.run(app.run_key("K", v=row.given)) is None
    assert seen == [expected(row.given)]


# -- bad input: one clear message, exit 2, nothing runs ------------------------------------
#: Typer 0.29 converts with pydantic, whose messages differ from Click's: (Typer < 0.29, 0.29).
INVALID_V = "Invalid value for '--v': "
BAD_BY_VERSION = [
    ("int", ["--v", "many"], INVALID_V + "'many' is not a valid int.",
     INVALID_V + "Input should be a valid integer"),
    ("float", ["--v", "x"], "'x' is not a valid float.",
     INVALID_V + "Input should be a valid number"),
    ("uuid", ["--v", "nope"], "'nope' is not a valid UUID",
     INVALID_V + "Input should be a valid UUID"),
    ("datetime", ["--v", "yesterday"], "'yesterday' does not match the formats",
     INVALID_V + "Input should be a valid datetime"),
    ("str-enum", ["--v", "slow"], "'slow' is not one of 'safe', 'fast'", None),
    ("int-enum", ["--v", "3"], "'3' is not one of '1', '2'", None),
    ("list-of-enum", ["--v", "slow"], "'slow' is not one of 'safe', 'fast'", None),
    ("tuple", ["--v", "x", "y"], "'x' is not a valid int.",
     INVALID_V + "Input should be a valid integer"),
    ("literal", ["--v", "c"], "'c' is not one of 'a', 'b'", None),
    ("int-range", ["--v", "11"], "11 is not in the range 0<=x<=10",
     INVALID_V + "Input should be less than or equal to 10"),
    ("parser", ["--v", "3"], "Invalid value for '--v'", None),
    ("argument", [], "Missing argument 'v'.", None),
    ("file", ["/no/such/file"], "'/no/such/file': No such file or directory", None),
    ("str", ["--w", "x"], "No such option: --w", None),
]
BAD = [(row_id, tokens, (new if TYPER_029 and new else old))
       for row_id, tokens, old, new in BAD_BY_VERSION]


@pytest.mark.parametrize(("row_id", "tokens", "message"), BAD, ids=[b[0] for b in BAD])
@pytest.mark.parametrize("prefix", [["keep"], ["run", "K"]], ids=["subcommand", "run-key"])
def test_bad_values_exit_2_with_typers_message_and_run_nothing(
    row_id: str, tokens: list[str], message: str, prefix: list[str]
) -> None:
    (row,) = [r for r in ROWS if r.id == row_id]
    seen: list[Any] = []

    result = run_cli(make_app(row, seen), [*prefix, *tokens])

    assert result.exit_code == 2
    assert message in " ".join(result.stderr.replace("│", " ").split())
    assert "Traceback" not in result.output
    assert seen == []


def test_a_required_argument_makes_run_all_exit_2_naming_the_command() -> None:
    (row,) = [r for r in ROWS if r.id == "argument"]
    seen: list[Any] = []

    result = run_cli(make_app(row, seen), ["run-all", "-t", "t"])

    assert result.exit_code == 2
    # one line, naming the command that cannot run and saying why
    assert result.stderr == (
        "Error: run-all runs each command with its defaults, and command K (Keep) has a "
        "required argument 'v'; run it on its own: run K ...\n")
    assert seen == []


def test_an_option_for_a_command_that_takes_none_exits_2() -> None:
    app = Falyx("T", program="t")
    app.add_command("N", "Nothing", lambda: None, name="nothing")

    for argv in (["nothing", "--env", "prod"], ["run", "N", "--env", "prod"]):
        result = run_cli(app, argv)
        assert result.exit_code == 2
        assert "No such option: --env" in result.stderr


@pytest.mark.parametrize("annotation", [
    "int | str",
    pytest.param("dict", marks=pytest.mark.skipif(
        TYPER_029, reason="Typer 0.29 converts a dict with pydantic")),
])
def test_a_parameter_typer_cannot_convert_is_one_error_line_naming_it(
    annotation: str, capsys
) -> None:
    namespace: dict[str, Any] = {}
    exec(f"def sync(limits: {annotation} = 1) -> None: ...", namespace)
    app = Falyx("T", program="t")
    app.add_command("S", "Sync", namespace["sync"], name="sync")

    with pytest.raises(SystemExit) as exit_info:
        app(["--version"])
    result = run_cli(app, ["sync"])

    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and result.exit_code == 1
    for text in (err, result.stderr):
        (line,) = text.splitlines()
        assert line.startswith("Error: command 'S': parameter 'limits' cannot be a command-line")
