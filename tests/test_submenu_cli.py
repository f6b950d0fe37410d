"""A mounted app on the command line (DESIGN §2.12): a Typer sub-group that behaves exactly as
the root does — commands, `run`, `run-all`, `preview`, `history`, `help`, completion, exit
codes, `--json`, rollback and signals — with the global options on the root."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from falyx import Falyx, chain
from falyx.action import Action
from falyx.testing import CliResult, run_cli
from tests.conftest import ROOT, TYPER_029, subprocess_env
from tests.test_cli_process import TIMEOUT, signal_at_line

SUBMENU_APP = ROOT / "tests" / "apps" / "submenu_app.py"


def make_tree() -> Falyx:
    """tools (R release, O -> ops); ops (R restart-db, S status, F fail, U undo-fails,
    C careful, D -> db); db (V vacuum)."""
    root = Falyx("🚀 Tools", program="tools")
    ops = Falyx("🔧 Ops tools", program="ops")
    db = Falyx("🗄 DB tools", program="db")

    @root.command(key="R")
    def release(env: str = "staging") -> str:
        print(f"releasing to {env}")
        return env

    @ops.command(key="R", aliases=["RS"], tags=["x"])
    def restart_db(force: bool = False) -> str:
        """Restart the database."""
        print(f"restart force={force}")
        return "restarted"

    @ops.command(key="S", tags=["x"])
    async def status() -> str:  # async: concurrent prints of run-all stay whole lines
        """Show the status."""
        print("all good")
        return "ok"

    def fail() -> None:
        raise RuntimeError("status check failed")

    def broken_undo() -> None:
        raise OSError("disk full")

    ops.add_command("F", "Fail", chain(
        Action("warm", lambda: print("warmed"), rollback=lambda: print("rolled back warm")),
        Action("check", fail), name="failing_job"), name="fail")
    ops.add_command("U", "Undo fails", chain(
        Action("warm", lambda: print("warmed"), rollback=broken_undo),
        Action("check", fail), name="undo_job"), name="undo-fails")
    ops.add_command("C", "Careful", lambda: print("careful done"), name="careful", confirm=True)

    @db.command(key="V")
    def vacuum(table: str = "all") -> str:
        """Vacuum a table."""
        print(f"vacuum {table}")
        return f"vacuumed {table}"

    ops.add_submenu("D", "Database", db)
    root.add_submenu("O", "Ops", ops, tags=["admin"])
    return root


def cli(*args: str, app: Falyx | None = None, **env: str | None) -> CliResult:
    return run_cli(app or make_tree(), list(args), env=env or None)


# -- every form reaches the same command -------------------------------------------------
@pytest.mark.parametrize("argv", [
    ["ops", "restart-db", "--force", "-y"],
    ["ops", "run", "R", "--force"],
    ["ops", "run", "rs", "--force"],
    ["ops", "run", "-y", "r", "--force"],                # run options before KEY too
    ["run", "O.R", "--force"],
    ["run", "ops.restart-db", "--force"],
    ["--history", "off", "ops", "run", "R", "--force"],   # global options stay on the root
])
def test_every_form_runs_the_submenus_command_with_converted_options(argv: list[str]) -> None:
    result = cli(*argv)

    assert result.exit_code == 0, result.output
    assert result.stdout == "restart force=True\n"


def test_two_levels_deep_by_names_and_by_path() -> None:
    assert cli("ops", "db", "vacuum", "--table", "users").stdout == "vacuum users\n"
    assert cli("ops", "db", "run", "v").stdout == "vacuum all\n"
    assert cli("ops", "run", "D.V", "--table", "t").stdout == "vacuum t\n"
    assert cli("run", "o.d.v").stdout == "vacuum all\n"


def test_run_all_in_a_submenu_runs_its_tagged_commands() -> None:
    result = cli("ops", "run-all", "-t", "x", "-y", "--json")

    assert result.exit_code == 0, result.output
    printed = [line for line in result.stdout.splitlines() if not line.startswith("{")]
    outcomes = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert sorted(printed) == ["all good", "restart force=False"]
    assert sorted(o["command"] for o in outcomes) == ["O.R", "O.S"]


def test_json_names_the_command_by_its_path() -> None:
    result = cli("ops", "db", "vacuum", "--json")

    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome["command"] == "O.D.V" and outcome["status"] == "OK"
    assert outcome["result"] == "vacuumed all"


def test_a_failing_command_in_a_submenu_rolls_back_and_exits_1() -> None:
    result = cli("ops", "fail", "--json")

    assert result.exit_code == 1
    *printed, last = result.stdout.splitlines()
    assert printed == ["warmed", "rolled back warm"]
    outcome = json.loads(last)
    assert outcome["command"] == "O.F" and outcome["status"] == "ERROR"
    assert outcome["error"] == "RuntimeError: status check failed"
    assert "Traceback" not in result.stderr


def test_a_failed_rollback_in_a_submenu_exits_3() -> None:
    result = cli("ops", "run", "U", "--json")

    assert result.exit_code == 3
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome["rollback_errors"] == ["OSError: disk full"]


def test_a_confirmation_in_a_submenu_without_a_terminal_exits_2_asking_for_y() -> None:
    refused = cli("ops", "careful")
    accepted = cli("ops", "careful", "-y")

    assert refused.exit_code == 2
    # named by its path from the root, as its runs are recorded
    assert "command 'O.C' needs confirmation" in refused.stderr and "pass -y" in refused.stderr
    assert "Command: 'O.C' — Careful" in refused.stderr
    assert refused.stdout == ""
    assert accepted.stdout == "careful done\n"


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(("argv", "line"), [
    (["ops", "restrat-db"],
     "Error: No such command 'restrat-db'. Did you mean 'restart-db'? Try 'tools ops -h' for "
     "help."),
    (["ops", "db", "vacum"],
     "Error: No such command 'vacum'. Did you mean 'vacuum'? Try 'tools ops db -h' for help."),
    (["ops", "run", "RR"], "Error: unknown command 'RR'; did you mean 'R'?"),
    (["run", "O.RR"], "Error: unknown command 'O.RR'; did you mean 'O.R'?"),
    (["run", "O"], "Error: 'O' opens the menu 'Ops'; name one of its commands, e.g. 'O.R'"),
    (["ops", "preview", "Q"], "Error: unknown command 'Q'; see 'help' for commands"),
    (["ops", "--history", "off", "run", "R"],
     "Error: No such option: --history. Try 'tools ops -h' for help."),
    (["ops", "restart-db", "--forse"],
     "Error: No such option: --forse (Possible options: --force, --no-force). Try 'tools ops "
     "restart-db -h' for help."),
])
def test_bad_input_at_depth_is_one_line_and_exit_2(argv: list[str], line: str) -> None:
    result = cli(*argv)

    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [line]
    assert result.stdout == ""


def test_history_clear_in_a_submenu_is_refused_the_file_is_the_whole_trees(tmp_path) -> None:
    db = str(tmp_path / "history.db")
    app = make_tree()
    assert run_cli(app, ["--history", db, "run", "R"]).exit_code == 0

    refused = run_cli(app, ["--history", db, "ops", "history", "--clear", "-y"])

    assert refused.exit_code == 2
    assert refused.stderr.splitlines() == [
        "Error: history --clear deletes the whole history, which this submenu shares with its "
        "root app; run it there"]
    assert commands(app, db, "history") == ["R"]


def test_a_sub_group_alone_without_a_terminal_prints_its_help_and_exits_2() -> None:
    result = cli("ops")

    assert result.exit_code == 2
    assert "Usage: tools ops [OPTIONS] COMMAND [ARGS]..." in result.stdout
    assert "restart-db" in result.stdout and "db" in result.stdout


# -- help, preview -----------------------------------------------------------------------------
def test_help_lists_submenus_with_their_keys_and_a_menu_marker() -> None:
    root_help = cli("help").stderr
    ops_help = cli("ops", "help").stderr
    tagged = cli("help", "-t", "admin").stderr

    assert "[O] Ops ▸" in root_help and "ops" in root_help
    assert "[R] release" in root_help
    assert "🔧 Ops tools" in ops_help
    assert "[R] Restart the database. (RS)" in ops_help and "[D] Database ▸" in ops_help
    assert "[O] Ops ▸" in tagged and "release" not in tagged


def test_dash_dash_help_shows_the_sub_group_and_a_submenus_panel() -> None:
    root_help = cli("--help", COLUMNS="100").stdout
    ops_help = cli("ops", "--help", COLUMNS="100").stdout

    assert "Submenus" in root_help and "ops" in root_help and "Ops (menu O)" in root_help
    assert "Usage: tools ops [OPTIONS] COMMAND [ARGS]..." in ops_help
    assert "🔧 Ops tools" in ops_help
    for name in ("restart-db", "status", "fail", "run-all", "preview", "history", "help"):
        assert name in ops_help
    assert "Database (menu D)" in ops_help
    assert "--menu" not in ops_help and "--history" not in ops_help


def test_preview_of_a_submenu_lists_its_commands_and_runs_nothing() -> None:
    result = cli("preview", "O")
    nested = cli("ops", "preview", "d")

    assert result.exit_code == 0
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "Submenu: 'O' — Ops (`ops`: 🔧 Ops tools)"
    for text in ("Command: 'R' — Restart the database.", "Command: 'S' — Show the status.",
                 "⛓ ChainedAction 'failing_job'", "Submenu: 'O.D' — Database (`db`: 🗄 DB tools)",
                 "Command: 'V' — Vacuum a table."):
        assert any(text in line for line in lines), text
    assert nested.stderr.splitlines()[0] == "Submenu: 'O.D' — Database (`db`: 🗄 DB tools)"


def test_preview_of_a_command_at_depth_is_headed_by_its_path() -> None:
    assert cli("ops", "preview", "R").stderr.splitlines()[0] == (
        "Command: 'O.R' — Restart the database.")
    assert cli("preview", "O.D.V").stderr.splitlines()[0] == "Command: 'O.D.V' — Vacuum a table."
    assert cli("ops", "db", "preview", "v", "--table", "t1").stderr.splitlines()[:2] == [
        "Command: 'O.D.V' — Vacuum a table.", "├── ⚑ Arguments: table=t1"]


# -- completion ------------------------------------------------------------------------------
def complete(line: str) -> list[str]:
    words = line.split(" ")
    env = {"_TOOLS_COMPLETE": "complete_bash", "COMP_WORDS": line,
           "COMP_CWORD": str(len(words) - 1)}
    result = run_cli(make_tree(), [], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout.split()


@pytest.mark.parametrize(("line", "offered"), [
    ("tools o", ["ops"]),
    ("tools ops re", ["restart-db"]),
    ("tools ops d", ["db"]),
    ("tools ops run ", ["R", "RS", "S", "F", "U", "C", "D.V"]),
    ("tools run ", ["R", "O.R", "O.RS", "O.S", "O.F", "O.U", "O.C", "O.D.V"]),
    ("tools run o.d", ["o.d.v"]),
    ("tools run O.R --f", ["--force"]),
    ("tools ops run r", ["r", "rs"]),
    ("tools ops run R --f", ["--force"]),
    ("tools ops restart-db --f", ["--force"]),
    ("tools ops preview ", ["R", "RS", "S", "F", "U", "C", "D", "D.V"]),
    ("tools ops run-all -t ", ["x"]),
    ("tools ops db run ", ["V"]),
    ("tools ops db vacuum --t", ["--table"]),
    ("tools preview o", ["o", "o.r", "o.rs", "o.s", "o.f", "o.u", "o.c", "o.d", "o.d.v"]),
    ("tools preview O.D.V --t", ["--table"]),
])
def test_shell_completion_works_at_depth(line: str, offered: list[str]) -> None:
    assert complete(line) == offered


# -- history -----------------------------------------------------------------------------------
@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Falyx, str]:
    """A tree whose runs went to one SQLite file: O.R twice, O.S, O.D.V, R."""
    app, db = make_tree(), str(tmp_path / "history.db")
    for argv in (["ops", "run", "R"], ["ops", "status"], ["ops", "db", "vacuum"],
                 ["run", "R"], ["run", "O.R", "--force"]):
        assert run_cli(app, ["--history", db, *argv]).exit_code == 0
    return app, db


def commands(app: Falyx, db: str, *argv: str) -> list[str]:
    result = run_cli(app, ["--history", db, *argv, "--kind", "Command", "--json"])
    assert result.exit_code == 0, result.output
    return [row["command"] for row in json.loads(result.stdout)]


def test_runs_of_submenus_record_into_the_roots_file_under_their_path(recorded) -> None:
    app, db = recorded

    assert commands(app, db, "history") == ["O.R", "O.S", "O.D.V", "R", "O.R"]
    assert commands(app, db, "history", "--command", "O.R") == ["O.R", "O.R"]
    assert commands(app, db, "history", "--command", "o") == ["O.R", "O.S", "O.D.V", "O.R"]
    assert commands(app, db, "history", "--command", "O.*") == ["O.R", "O.S", "O.D.V", "O.R"]


def test_a_submenus_history_shows_its_runs_and_reads_keys_from_it(recorded) -> None:
    app, db = recorded

    assert commands(app, db, "ops", "history") == ["O.R", "O.S", "O.D.V", "O.R"]
    assert commands(app, db, "ops", "history", "--command", "O.R") == ["O.R", "O.R"]
    assert commands(app, db, "ops", "history", "--command", "r") == ["O.R", "O.R"]
    assert commands(app, db, "ops", "history", "--command", "restart-db") == ["O.R", "O.R"]
    assert commands(app, db, "ops", "db", "history") == ["O.D.V"]


def test_last_result_in_a_submenu_is_its_newest_run(recorded) -> None:
    app, db = recorded

    newest = run_cli(app, ["--history", db, "ops", "db", "history", "--last-result"])
    by_path = run_cli(app, ["--history", db, "history", "--last-result", "--command", "O.S"])

    assert newest.stdout == "vacuumed all\n"
    assert by_path.stdout == "ok\n"


def test_the_history_table_shows_a_submenus_command_with_its_path(recorded) -> None:
    app, db = recorded

    table = run_cli(app, ["--history", db, "history", "--kind", "Command"], env={
        "COLUMNS": "200"}).stderr

    assert "[O.R] Restart the database." in table
    assert "[O.D.V] Vacuum a table." in table
    assert "[R]" not in table  # a root command's record keeps its own name


# -- a real process ----------------------------------------------------------------------------
@pytest.mark.slow
def test_the_falyx_launcher_takes_a_file_whose_submenus_are_apps_too() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "falyx", str(SUBMENU_APP), "ops", "db", "vacuum", "--json"],
        capture_output=True, text=True, env=subprocess_env(FALYX_HISTORY="off"), cwd=ROOT,
        timeout=TIMEOUT)

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "vacuuming all"
    assert json.loads(done.stdout.splitlines()[1])["command"] == "O.D.V"
@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code", "line"), [
    (signal.SIGINT, 130, "Interrupted."),
    (signal.SIGTERM, 143, "Terminated."),
])
def test_a_signal_during_a_submenus_command_rolls_back_and_exits_with_its_code(
    signum: signal.Signals, code: int, line: str
) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(SUBMENU_APP), "ops", "slow", "--json"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=subprocess_env(FALYX_HISTORY="off"), cwd=ROOT)
    out, err = signal_at_line(proc, b"slow step waiting\n", signum)

    assert proc.returncode == code
    *printed, last = out.decode().splitlines()
    assert printed == ["prepared", "slow step waiting", "rolled back prepare"]
    assert json.loads(last)["command"] == "O.S" and json.loads(last)["status"] == "CANCELLED"
    assert err.decode().splitlines()[-1] == line
    assert "Traceback" not in err.decode()


@pytest.mark.skipif(TYPER_029, reason="Typer 0.29 converts a dict with pydantic")
def test_a_parameter_typer_cannot_convert_in_a_submenu_is_one_line_naming_it() -> None:
    def sync(limits: dict = None) -> None: ...  # noqa: RUF013 - the annotation is the point

    app, ops = Falyx("T", program="t"), Falyx("Ops", program="ops")
    ops.add_command("S", "Sync", sync, name="sync")
    app.add_submenu("O", "Ops", ops)

    result = run_cli(app, ["ops", "sync"])

    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: command 'S': parameter 'limits' cannot be a command-line")
