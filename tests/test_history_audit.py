"""`history` as an audit trail: Run and Kind columns, rollback rows, `--kind`, `--since`,
`--run PREFIX`, JSON values, and the streams and exit codes of one record's result."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from falyx import Falyx
from falyx.action import Action, ActionGroup, ChainedAction
from falyx.context import ExecutionContext
from falyx.history_view import parse_since
from falyx.store import SQLiteHistoryStore
from falyx.testing import CliResult, run_cli

NOW = 1_800_000_000.0


def make_app() -> Falyx:
    app = Falyx("audit", program="auditapp")

    def undo_build() -> None:
        print("undo build")

    def undo_push() -> None:
        raise OSError("cannot undo push")

    def deploy() -> None:
        raise RuntimeError("deploy failed")

    def values() -> dict:
        return {"hosts": ["a", "b"], "count": 2, "ok": True}

    def numbers() -> set:
        return {1, 2}

    def nothing() -> None:
        return None

    def secret() -> str:
        return "hunter2"

    build = Action("build", lambda: "artefact", rollback=undo_build)
    push = Action("push", lambda: "pushed", rollback=undo_push)
    app.add_command("D", "Deploy", ChainedAction("release", [build, push, Action("deploy",
                                                                                  deploy)]))
    app.add_command("G", "Good", ChainedAction("good", [build]))
    app.add_command("P", "Pair", ActionGroup("pair", [Action("a", lambda: 1),
                                                      Action("b", lambda: "two")]))
    app.add_command("V", "Values", values)
    app.add_command("T", "Set", numbers)
    app.add_command("N", "Nothing", nothing)
    app.add_command("S", "Secret", secret, record_result=False)
    return app


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "audit.db")


def cli(app: Falyx, db: str, *args: str) -> CliResult:
    return run_cli(app, ["--history", db, *args])


def rows_of(app: Falyx, db: str, *args: str) -> list[dict]:
    result = cli(app, db, "history", "--json", "--limit", "1000", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def app(db: str) -> Falyx:
    app = make_app()
    assert cli(app, db, "run", "D", "-y").exit_code != 0  # deploy fails; both rolled back
    for key in "GPVTNS":
        assert cli(app, db, "run", key, "-y").exit_code == 0
    return app


def _index(app: Falyx, db: str, kind: str, name: str) -> str:
    [row] = [r for r in rows_of(app, db) if (r["kind"], r["name"]) == (kind, name)][-1:]
    return str(row["index"])


# -- rollback rows ------------------------------------------------------------------------
def test_rollbacks_are_rows_of_kind_rollback_naming_the_step_they_undo(app, db) -> None:
    rows = rows_of(app, db, "--command", "D")
    release = next(r for r in rows if r["name"] == "release")
    undone = [(r["name"], r["status"], r["error_type"], r["parent"], r["result"])
              for r in rows if r["kind"] == "Rollback"]
    assert undone == [("push", "ERROR", "OSError", release["index"], None),
                      ("build", "OK", None, release["index"], None)]
    assert [(r["name"], r["status"]) for r in rows if r["kind"] == "Action"] == [
        ("build", "OK"), ("push", "OK"), ("deploy", "ERROR")]


def test_the_table_never_shows_a_rollback_as_the_steps_success(app, db) -> None:
    table = cli(app, db, "history", "--command", "D").stderr.splitlines()
    rollbacks = [line for line in table if "│ Rollback " in line]
    assert len(rollbacks) == 2
    build, push = (next(line for line in rollbacks if f"│ {name} " in line)
                   for name in ("build", "push"))
    assert "↩ Rolled back" in build and "Success" not in build
    assert "❌ Rollback failed" in push and "OSError('cannot" in push  # the cell wraps
    successes = [line for line in table if "Success" in line]
    assert successes and all("│ Rollback " not in line for line in successes)


def test_the_run_tree_shows_rollbacks_under_their_chain(app, db) -> None:
    run_id = rows_of(app, db, "--command", "D")[0]["run_id"]
    tree = cli(app, db, "history", "--run", run_id[:8])
    assert tree.exit_code == 0, tree.stderr
    assert "build [Rollback] ↩ Rolled back" in tree.stderr
    assert "push [Rollback] ❌ Rollback failed" in tree.stderr


# -- Run and Kind columns, --kind, --run PREFIX -------------------------------------------
def test_the_table_has_run_and_kind_columns(app, db) -> None:
    table = cli(app, db, "history", "--command", "G").stderr
    header = next(line for line in table.splitlines() if "Index" in line)
    assert [cell.strip() for cell in header.strip("┃").split("┃")] == [
        "Index", "Run", "Kind", "Name", "Start", "End", "Duration", "Status",
        "Result / Exception"]
    run_id = rows_of(app, db, "--command", "G")[0]["run_id"]
    body = [line for line in table.splitlines() if f"│ {run_id[:8]} │" in line]
    assert [line.split("│")[3].strip() for line in body] == ["Action", "ChainedAction",
                                                               "Command"]


def test_kind_filters_in_any_case(app, db) -> None:
    assert {r["kind"] for r in rows_of(app, db, "--kind", "rollback")} == {"Rollback"}
    groups = rows_of(app, db, "--kind", "ACTIONGROUP")
    assert [(r["kind"], r["name"]) for r in groups] == [("ActionGroup", "pair")]
    assert len(rows_of(app, db, "--kind", "Command")) == 7
    assert rows_of(app, db, "--kind", "NoSuchKind") == []


def test_run_accepts_a_unique_prefix_and_refuses_an_ambiguous_one(tmp_path: Path) -> None:
    db = tmp_path / "ids.db"
    with SQLiteHistoryStore(db, "ids") as store:
        for run_id in ("aaa111", "aaa222", "bbb333"):
            store.write_run([ExecutionContext(f"step-{run_id}", id=1, run_id=run_id,
                                              status="OK", attempts=1, start=NOW)])
    app = make_app()
    one = cli(app, str(db), "history", "--run", "aaa1")
    assert one.exit_code == 0 and "step-aaa111" in one.stderr and "aaa222" not in one.stderr
    both = cli(app, str(db), "history", "--run", "aaa")
    assert both.exit_code == 2 and both.stdout == ""
    assert both.stderr == "Error: more than one run with an id starting 'aaa'\n"
    assert [r["name"] for r in rows_of(app, str(db), "--run", "b")] == ["step-bbb333"]


# -- --since ------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("30m", NOW - 1_800), ("1h", NOW - 3_600), ("2d", NOW - 172_800), ("1w", NOW - 604_800),
    ("45s", NOW - 45), ("1h30m", NOW - 5_400), ("1.5h", NOW - 5_400), (" 2D ", NOW - 172_800),
    ("0m", NOW),
    ("2026-11-30T12:00:00Z", datetime(2026, 11, 30, 12, tzinfo=timezone.utc).timestamp()),
    ("2026-11-30T14:00+02:00", datetime(2026, 11, 30, 12, tzinfo=timezone.utc).timestamp()),
    ("2026-11-30", datetime(2026, 11, 30).astimezone().timestamp()),  # local midnight
    ("2026-11-30 08:15", datetime(2026, 11, 30, 8, 15).astimezone().timestamp()),
])
def test_since_reads_ages_dates_and_times(text: str, expected: float) -> None:
    assert parse_since(text, now=NOW) == pytest.approx(expected)


BAD_SINCE = ["yesterday", "1x", "", "  ", "-1h", "h", "1h-", "2026-13-01", "2026-11-31",
             "30 minutes", "9" * 400 + "d", "1e3h"]


@pytest.mark.parametrize("text", BAD_SINCE)
def test_a_bad_since_is_one_line_and_exit_2(app, db, text: str) -> None:
    with pytest.raises(ValueError, match="--since"):
        parse_since(text)
    result = cli(app, db, "history", "--since", text)
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: --since: ") and "30m, 1h, 2d" in line


def _age_command(db: str, command: str, days: float) -> None:
    """Make every record of `command` start `days` days ago."""
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE history SET start = ? WHERE command = ?",
                     (time.time() - days * 86_400, command))


def test_since_keeps_records_started_from_then_on(app, db) -> None:
    _age_command(db, "D", 3)
    recent = rows_of(app, db, "--since", "1h")
    assert recent and "D" not in {r["command"] for r in recent}
    assert {r["command"] for r in rows_of(app, db, "--since", "4d")} >= {"D", "G"}
    three_days = (datetime.now() - timedelta(days=3, hours=1)).strftime("%Y-%m-%dT%H:%M")
    assert "D" in {r["command"] for r in rows_of(app, db, "--since", three_days)}
    table = cli(app, db, "history", "--since", "2d").stderr
    assert "release" not in table and "good" in table


def test_filters_work_the_same_on_memory_only_history() -> None:
    app = make_app()
    for key in "DG":
        run_cli(app, ["--history", "off", "run", key, "-y"])
    shown = run_cli(app, ["--history", "off", "history", "--json", "--kind", "rollback",
                          "--since", "1h"])
    assert [r["name"] for r in json.loads(shown.stdout)] == ["push", "build"]
    later = run_cli(app, ["--history", "off", "history", "--json", "--since",
                          (datetime.now() + timedelta(hours=1)).isoformat()])
    assert json.loads(later.stdout) == []
    run_id = app.registry.latest().run_id  # type: ignore[union-attr]
    tree = run_cli(app, ["--history", "off", "history", "--run", run_id[:6]])
    assert tree.exit_code == 0 and "good [ChainedAction]" in tree.stderr


# -- results as JSON values ----------------------------------------------------------------
def test_history_json_gives_results_as_json_values(app, db) -> None:
    top = {r["command"]: r for r in rows_of(app, db, "--kind", "Command")}
    assert top["V"]["result"] == {"hosts": ["a", "b"], "count": 2, "ok": True}
    assert top["P"]["result"] == [["a", 1], ["b", "two"]]  # a group's (name, result) pairs
    assert (top["G"]["result"], top["G"]["result_format"]) == ("artefact", "json")
    assert (top["T"]["result"], top["T"]["result_format"]) == ("{1, 2}", "repr")
    assert (top["N"]["result"], top["N"]["result_format"]) == (None, "json")
    assert (top["S"]["result"], top["S"]["result_format"]) == (None, None)
    assert (top["D"]["result"], top["D"]["result_format"]) == (None, None)


# -- one record's result: streams and exit codes ---------------------------------------------
def test_a_result_goes_to_stdout_with_exit_0(app, db) -> None:
    values = cli(app, db, "history", "--result-index", _index(app, db, "Command", "Values"))
    assert values.exit_code == 0
    assert json.loads(values.stdout) == {"hosts": ["a", "b"], "count": 2, "ok": True}
    assert "Values [Command]" in values.stderr
    numbers = cli(app, db, "history", "--last-result", "--command", "T")
    assert (numbers.exit_code, numbers.stdout) == (0, "{1, 2}\n")  # not JSON: the repr
    text = cli(app, db, "history", "--last-result", "--command", "g")
    assert (text.exit_code, text.stdout) == (0, "artefact\n")


@pytest.mark.parametrize(("kind", "name", "why"), [
    ("Command", "Nothing", "returned None"),
    ("Command", "Secret", "record_result=False"),
    ("Rollback", "build", "is the rollback of 'build'"),
])
def test_a_record_without_a_result_says_so_on_stderr_with_exit_1(app, db, kind, name,
                                                                 why) -> None:
    result = cli(app, db, "history", "--result-index", _index(app, db, kind, name))
    assert result.exit_code == 1 and result.stdout == ""
    assert why in result.stderr.splitlines()[-1]


def test_a_failed_record_prints_its_traceback_on_stderr_with_exit_1(app, db) -> None:
    for args in (["--last-result", "--command", "D"],
                 ["--result-index", _index(app, db, "Action", "deploy")]):
        result = cli(app, db, "history", *args)
        assert result.exit_code == 1 and result.stdout == ""
        assert "Traceback (most recent call last)" in result.stderr
        assert "RuntimeError: deploy failed" in result.stderr
        assert result.stderr.splitlines()[-1].startswith("Error: record #")


def test_json_prints_the_record_and_keeps_the_exit_code(app, db) -> None:
    failed = cli(app, db, "history", "--last-result", "--command", "D", "--json")
    assert failed.exit_code == 1 and failed.stderr == ""
    assert json.loads(failed.stdout)["error"] == "deploy failed"
    ok = cli(app, db, "history", "--last-result", "--command", "V", "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["result"]["count"] == 2


def test_a_cancelled_record_has_no_result(tmp_path: Path) -> None:
    db = tmp_path / "cancelled.db"
    ctx = ExecutionContext("slow", id=1, run_id="c1", attempts=1, start=NOW, command="W")
    ctx.fail(asyncio.CancelledError(), "CANCELLED")
    with SQLiteHistoryStore(db, "x") as store:
        store.write_run([ctx])
    result = cli(make_app(), str(db), "history", "--last-result")
    assert result.exit_code == 1 and result.stdout == ""
    assert "was cancelled; it has no result" in result.stderr


def test_last_result_on_an_empty_history_exits_1(db) -> None:
    result = cli(make_app(), db, "history", "--last-result")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "Error: no command run is recorded yet\n"
    other = cli(make_app(), db, "history", "--last-result", "--command", "V")
    assert other.stderr == "Error: no command run of command 'V' is recorded yet\n"
