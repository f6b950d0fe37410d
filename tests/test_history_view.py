"""The `history` command over a real SQLite file: every option, and persistence across processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from falyx import Falyx, RetryPolicy, chain
from falyx.testing import CliResult, run_cli
from tests.conftest import ROOT, subprocess_env

JSON_KEYS = {"index", "run_id", "parent", "command", "name", "kind", "start", "end", "duration",
             "status", "attempts", "result", "result_format", "error_type", "error", "traceback"}


def make_app() -> Falyx:
    app = Falyx("history tests", program="histapp")
    calls = {"flaky": 0}

    async def build() -> str:
        return "artefact"

    async def ship(last_result: str | None = None) -> str:
        return f"shipped {last_result}"

    app.add_command("R", "Release", chain(build, ship, name="release", auto_inject=True))

    @app.command(key="F")
    def fail() -> None:
        raise RuntimeError("broken pipe")

    @app.command(key="K", retry=RetryPolicy(max_retries=2, delay=0))
    def flaky() -> str:
        calls["flaky"] += 1
        if calls["flaky"] == 1:
            raise ValueError("first try fails")
        return "recovered"

    @app.command(key="S", record_result=False)
    def secret() -> str:
        return "hunter2"

    return app


@pytest.fixture
def db(tmp_path: Path) -> str:
    (tmp_path / "hist").mkdir()  # falyx creates no folder outside its state dir
    return str(tmp_path / "hist" / "histapp.db")


def cli(app: Falyx, db: str, *args: str) -> CliResult:
    return run_cli(app, ["--history", db, *args])


def history_json(app: Falyx, db: str, *args: str) -> list[dict]:
    result = cli(app, db, "history", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def filled(db: str) -> Falyx:
    app = make_app()
    for key in ("R", "F", "K", "S"):
        cli(app, db, "run", key, "-y")
    return app


def test_history_json_has_stable_keys_and_one_record_per_step(filled: Falyx, db: str) -> None:
    rows = history_json(filled, db)
    assert all(set(row) == JSON_KEYS for row in rows)
    names = [row["name"] for row in rows]
    assert names[:4] == ["build", "ship", "release", "Release"]
    assert [row["index"] for row in rows] == sorted({row["index"] for row in rows})
    assert all(row["start"].endswith("+00:00") for row in rows)


def test_history_does_not_record_itself(filled: Falyx, db: str) -> None:
    before = len(history_json(filled, db))
    cli(filled, db, "history")
    assert len(history_json(filled, db)) == before


def test_history_filters_by_status_name_and_command(filled: Falyx, db: str) -> None:
    errors = history_json(filled, db, "--status", "error")
    assert {row["status"] for row in errors} == {"ERROR"}
    assert {row["error"] for row in errors} == {"broken pipe"}
    assert [row["name"] for row in history_json(filled, db, "--name", "ship")] == ["ship"]
    assert {row["command"] for row in history_json(filled, db, "--command", "r")} == {"R"}


def test_history_limit_keeps_the_newest_last(filled: Falyx, db: str) -> None:
    rows = history_json(filled, db)
    assert history_json(filled, db, "--limit", "2") == rows[-2:]


def test_history_table_lists_rows_on_stderr(filled: Falyx, db: str) -> None:
    result = cli(filled, db, "history")
    assert result.exit_code == 0
    assert result.stdout == ""
    for text in ("Index", "Run", "Kind", "Result / Exception", "release", "ChainedAction",
                 "RuntimeError('broken", '"shipped artefact"'):  # the cell wraps at 120
        assert text in result.stderr


def test_retried_then_recovered_step_has_no_stale_traceback(filled: Falyx, db: str) -> None:
    [row] = [r for r in history_json(filled, db, "--name", "flaky") if r["kind"] == "Action"]
    assert (row["status"], row["attempts"], row["traceback"]) == ("OK", 2, None)
    assert (row["result"], row["result_format"]) == ("recovered", "json")


def test_record_result_false_stores_no_result(filled: Falyx, db: str) -> None:
    rows = history_json(filled, db, "--command", "S")
    assert rows and all(row["result"] is None for row in rows)
    assert "hunter2" not in Path(db).read_bytes().decode("latin-1")


def test_result_index_prints_the_result_or_the_traceback(filled: Falyx, db: str) -> None:
    rows = {row["name"]: row for row in history_json(filled, db)}
    ok = cli(filled, db, "history", "--result-index", str(rows["ship"]["index"]))
    assert ok.exit_code == 0 and ok.stdout == "shipped artefact\n"  # a string as itself
    assert "ship [Action]" in ok.stderr
    failed = cli(filled, db, "history", "--result-index", str(rows["fail"]["index"]))
    assert failed.exit_code == 1 and failed.stdout == ""
    assert "Traceback (most recent call last)" in failed.stderr
    assert "RuntimeError: broken pipe" in failed.stderr
    missing = cli(filled, db, "history", "--result-index", "99999")
    assert missing.exit_code == 2 and missing.stdout == ""
    assert "no history record with index 99999" in missing.stderr


def test_last_result_is_the_newest_command_run(filled: Falyx, db: str) -> None:
    result = cli(filled, db, "history", "--last-result", "--command", "K")
    assert result.exit_code == 0
    assert result.stdout == "recovered\n"


def test_run_shows_one_run_as_a_tree(filled: Falyx, db: str) -> None:
    run_id = history_json(filled, db, "--command", "R")[0]["run_id"]
    result = cli(filled, db, "history", "--run", run_id)
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Release [Command]")
    assert any("release [ChainedAction]" in line for line in lines[1:])
    assert any("ship [Action]" in line and '"shipped artefact"' in line for line in lines)
    unknown = cli(filled, db, "history", "--run", "nope")
    assert unknown.exit_code == 2 and "no run with an id starting 'nope'" in unknown.stderr


def test_clear_without_terminal_needs_yes(filled: Falyx, db: str) -> None:
    refused = cli(filled, db, "history", "--clear")
    assert refused.exit_code == 2 and "-y" in refused.stderr
    assert history_json(filled, db)
    cleared = cli(filled, db, "history", "--clear", "-y")
    assert cleared.exit_code == 0
    assert history_json(filled, db) == []


def test_history_off_keeps_memory_only(tmp_path: Path) -> None:
    app = make_app()
    assert run_cli(app, ["--history", "off", "run", "R", "-y"]).exit_code == 0
    result = run_cli(app, ["--history", "off", "history", "--json"])
    assert [row["name"] for row in json.loads(result.stdout)][-1] == "Release"
    assert not list(tmp_path.rglob("*.db"))


def test_history_survives_the_process(tmp_path: Path) -> None:
    """Run in one process, read the history in another: the file is the only link."""
    db = tmp_path / "decorators.db"
    env = subprocess_env(FALYX_HISTORY=str(db))
    app = [sys.executable, str(ROOT / "examples" / "decorators.py")]
    ran = subprocess.run([*app, "run", "R", "-y"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert ran.returncode == 0, ran.stderr
    shown = subprocess.run([*app, "history", "--json", "--command", "R"], env=env,
                           capture_output=True, text=True, timeout=60)
    rows = json.loads(shown.stdout)
    assert [r["name"] for r in rows] == ["build", "test", "deploy", "release", "Release"]
    assert {r["status"] for r in rows} == {"OK"}
    assert oct(db.stat().st_mode & 0o777) == "0o600"
