"""What the CLI prints, line by line: the version, whole lines off a terminal, arguments as
typed, `-v`'s debug lines, the hints of refusals, and `history --command` for unknown keys."""

from __future__ import annotations

import enum
import re
import shlex
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from falyx import Falyx, ShellAction, __version__, chain
from falyx.command import format_arguments, typed_value
from falyx.testing import run_cli
from tests.conftest import subprocess_env


class Env(str, enum.Enum):
    dev = "dev"
    prod = "prod"


class Size(enum.Enum):
    SMALL = 1


def deploy_app(**options: Any) -> Falyx:
    """A confirmed deploy taking an Enum and a path, and a three-step chain."""
    app = Falyx("Tools", program="tools", **options)

    @app.command(key="D", confirm=True)
    def deploy(env: Env = Env.dev, out_dir: Path = Path("/tmp/nuproj1/out")) -> str:
        """Deploy."""
        print(f"deployed to {env.value}")
        return env.value

    def one() -> int:
        return 1

    def two(last_result: int = 0) -> int:
        return last_result + 1

    def three(last_result: int = 0) -> int:
        return last_result + 1

    app.add_command("C", "Count", chain(one, two, three, name="count", auto_inject=True))

    @app.command(key="F")
    def fail() -> None:
        """Fails."""
        raise RuntimeError("boom")

    return app


# -- 4. --version ----------------------------------------------------------------------------
@pytest.mark.parametrize(("options", "line"), [
    ({"version": "0.3.0"}, "tools 0.3.0"),
    ({}, f"tools (falyx {__version__})"),
    ({"program": "falyx"}, f"falyx {__version__}"),
])
def test_version_names_whose_version_it_prints(options: dict[str, str], line: str) -> None:
    app = Falyx("T", **{"program": "tools", **options})

    result = run_cli(app, ["--version"])

    assert result.exit_code == 0 and result.stdout == line + "\n"


# -- 5. nothing cut without a mark -------------------------------------------------------------
LONG_SHELL = "echo " + " && echo ".join(f"step-{i}-of-a-long-runbook-line" for i in range(12))


def long_app() -> Falyx:
    app = Falyx("Long", program="long")
    app.add_command("R", "Runbook", ShellAction("long", LONG_SHELL, shell=True), confirm=True)

    @app.command(key="P", confirm=True)
    def package(out_dir: Path = Path("/srv/" + "/".join(f"level{i}" for i in range(20)))) -> None:
        """Package."""

    return app


def test_off_a_terminal_preview_and_confirmation_lines_are_printed_whole() -> None:
    app = long_app()

    preview = run_cli(app, ["preview", "R"])
    refused = run_cli(app, ["run", "P"])  # no terminal: the preview, then the exit-2 line

    assert f"$ {LONG_SHELL}" in preview.stderr.splitlines()[-1]
    arguments = next(line for line in refused.stderr.splitlines() if "Arguments" in line)
    assert arguments.endswith("⚑ Arguments: out_dir=/srv/" + "/".join(
        f"level{i}" for i in range(20)))
    assert refused.exit_code == 2
    assert refused.stderr.splitlines()[-1].endswith("pass -y (--skip-confirm) to go ahead "
                                                     "without asking")


def test_with_columns_set_lines_wrap_at_that_width_and_keep_every_word() -> None:
    preview = run_cli(long_app(), ["preview", "R"], env={"COLUMNS": "60"})

    lines = preview.stderr.splitlines()
    assert max(map(len, lines)) <= 60
    text = " ".join(re.sub(r"^[\s│└├─]*", "", line) for line in lines)
    for i in range(12):
        assert f"step-{i}-of-a-long-runbook-line" in text


@pytest.mark.slow
def test_a_no_color_terminal_wraps_a_preview_instead_of_cropping_it(tmp_path: Path) -> None:
    """NO_COLOR on a real 40-column terminal (a pty): the tree wraps, every word arrives."""
    import pexpect

    script = tmp_path / "long.py"
    script.write_text(f"from falyx import Falyx, ShellAction\n"
                      f"app = Falyx('Long', program='long')\n"
                      f"app.add_command('R', 'Runbook', ShellAction('long', {LONG_SHELL!r}, "
                      f"shell=True))\n"
                      f"app()\n")
    env = subprocess_env(NO_COLOR="1", TERM="xterm")
    env.pop("COLUMNS", None)
    child = pexpect.spawn(sys.executable, [str(script), "preview", "R"], env=env,
                          dimensions=(24, 40), encoding="utf-8", timeout=30)
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0, child.before
    lines = child.before.replace("\r", "").splitlines()
    assert max(map(len, lines)) <= 40
    text = "".join(re.sub(r"^[\s│└├─]*", "", line) for line in lines)
    assert LONG_SHELL.replace(" ", "") in text.replace(" ", "")


# -- 6. arguments as typed ---------------------------------------------------------------------
def test_preview_and_confirmation_show_arguments_as_typed() -> None:
    app = deploy_app()

    result = run_cli(app, ["-n", "run", "D", "--env", "prod", "--out-dir", "/tmp/o u t"])

    assert result.exit_code == 0, result.output
    assert "⚑ Arguments: env=prod, out_dir='/tmp/o u t'" in result.stderr
    assert app.get("D").confirmation_for({"env": Env.prod, "out_dir": Path("/x")}) == (
        "Confirm execution of D — Deploy. (calls `deploy` with env=prod, out_dir=/x) ")


@pytest.mark.parametrize(("value", "typed"), [
    (Env.prod, "prod"),
    (Size.SMALL, "1"),
    (PurePosixPath("/tmp/nuproj1/out"), "/tmp/nuproj1/out"),
    ("main", "main"),
    ("two words", "'two words'"),
    ("", "''"),
    (["a", "b c"], "[a, 'b c']"),
    (3, "3"),
    (2.5, "2.5"),
    (False, "False"),
    (None, "None"),
    (b"raw", "b'raw'"),  # anything else: its repr
])
def test_typed_value(value: Any, typed: str) -> None:
    assert typed_value(value) == typed


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, alphabet=st.characters(blacklist_categories=("Cs", "Cc"))))
def test_a_string_shown_reads_back_as_that_one_word(text: str) -> None:
    assert shlex.split(typed_value(text)) == [text]
    assert shlex.split(typed_value(PurePosixPath("/srv") / text.replace("/", "_"))) == [
        str(PurePosixPath("/srv") / text.replace("/", "_"))]


def test_a_long_value_is_cut_with_a_mark() -> None:
    shown = format_arguments({"name": "x" * 500})
    assert shown == "name=" + "x" * 199 + "…"


# -- 7. -v: run-level debug lines --------------------------------------------------------------
def debug_lines(stderr: str) -> list[str]:
    return [re.sub(r"^\[[^]]+\] DEBUG\s+", "", line) for line in stderr.splitlines()
            if " DEBUG " in line]


def test_verbose_logs_the_run_start_end_confirmation_and_history(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    result = run_cli(deploy_app(), ["-v", "--history", str(db), "run", "D", "-y", "--env",
                                    "prod"])

    assert result.exit_code == 0, result.output
    lines = debug_lines(result.stderr)
    assert lines[0] == f"history: {db}"
    assert lines[1] == "[D] confirmation skipped (-y)"
    assert re.fullmatch(r"\[D\] starting 'Deploy\.' with env=prod, out_dir=/tmp/nuproj1/out "
                        r"\(run \w+\)", lines[2])
    assert re.fullmatch(r"\[D\] OK in \d+\.\d{3}s, exit code 0", lines[3])
    assert len(lines) == 4
    assert result.stdout == "deployed to prod\n"


def test_verbose_logs_a_confirmation_answered_by_never_prompt_and_a_failure() -> None:
    app = deploy_app()
    confirmed = debug_lines(run_cli(app, ["-v", "-n", "run", "D"]).stderr)
    failed = run_cli(app, ["-v", "run", "F"])

    assert "[D] confirmed by default (-n)" in confirmed
    assert failed.exit_code == 1
    assert re.fullmatch(r"\[F\] ERROR in \d+\.\d{3}s, exit code 1", debug_lines(failed.stderr)[-1])


def test_verbose_lines_are_per_run_not_per_step() -> None:
    result = run_cli(deploy_app(), ["-v", "run", "C"])

    lines = debug_lines(result.stderr)
    assert result.exit_code == 0 and len(lines) == 3  # history, start, end: no step lines
    assert not any(name in line for line in lines for name in ("one", "two", "three"))


def test_without_verbose_there_are_no_debug_lines() -> None:
    result = run_cli(deploy_app(), ["run", "D", "-y"])

    assert result.exit_code == 0 and "DEBUG" not in result.stderr and result.stderr == ""


# -- 8. the hint of a refused confirmation names an option that goes ahead ---------------------
def test_history_clear_without_a_terminal_hints_y_which_clears() -> None:
    app = deploy_app()
    assert run_cli(app, ["run", "D", "-y"]).exit_code == 0

    refused = run_cli(app, ["history", "--clear"])
    never = run_cli(app, ["-n", "history", "--clear"])  # -n answers the default: No
    cleared = run_cli(app, ["history", "--clear", "-y"])

    assert refused.exit_code == 2
    assert refused.stderr == (
        "Error: history --clear needs confirmation but there is no terminal to ask on; "
        "pass -y (--skip-confirm) to go ahead without asking\n")
    assert (never.exit_code, never.stderr) == (1, "Cancelled.\n")
    assert (cleared.exit_code, cleared.stderr) == (0, "History cleared.\n")


# -- 9. --executor lists only what a command line can take ------------------------------------
@pytest.mark.parametrize(("args", "env"), [
    (["--executor", "bogus", "run", "D", "-y"], {}),
    (["run", "D", "-y"], {"FALYX_EXECUTOR": "gpu:4"}),
])
def test_a_bad_executor_spec_lists_the_specs_only(args: list[str], env: dict[str, str]) -> None:
    result = run_cli(deploy_app(), args, env=env)

    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.endswith("use 'process', 'process:N', 'thread', 'thread:N', 'dask', 'dask:N' or "
                         "'dask://HOST:PORT'")
    assert "concurrent.futures" not in line


def test_in_code_an_executor_that_is_no_spec_still_mentions_executor_objects() -> None:
    from falyx.action import ProcessAction
    from falyx.errors import ExecutorError

    with pytest.raises(ExecutorError, match=r"or a concurrent\.futures\.Executor"):
        ProcessAction("p", print, executor=42)


# -- 10. history --command with an unknown key -------------------------------------------------
@pytest.mark.parametrize("args", [
    ["history", "--command", "DD"],
    ["history", "--command", "dd", "--json"],
    ["history", "--last-result", "--command", "DD"],
])
def test_history_of_an_unknown_command_says_so_with_a_suggestion(args: list[str]) -> None:
    app = deploy_app()
    assert run_cli(app, ["run", "D", "-y"]).exit_code == 0

    result = run_cli(app, args)

    assert result.exit_code == 2
    assert result.stdout == ""
    typed = args[args.index("--command") + 1]
    assert result.stderr.splitlines() == [
        f"Error: --command: unknown command '{typed}'; did you mean 'D'?"]


def test_history_of_a_known_command_without_runs_is_empty_and_exit_0() -> None:
    result = run_cli(deploy_app(), ["history", "--command", "F", "--json"])

    assert result.exit_code == 0 and result.stdout == "[]\n"


def test_history_of_a_command_no_longer_in_the_app_still_shows_its_runs(tmp_path: Path) -> None:
    history = ["--history", str(tmp_path / "h.db")]
    old = deploy_app()
    old.add_command("Q", "Quit smoking", lambda: "done")
    assert run_cli(old, [*history, "run", "Q"]).exit_code == 0

    result = run_cli(deploy_app(), [*history, "history", "--command", "Q", "--json"])

    assert result.exit_code == 0, result.output
    assert "Quit smoking" in result.stdout


def test_a_pattern_that_matches_nothing_is_an_empty_answer() -> None:
    result = run_cli(deploy_app(), ["history", "--command", "Z*", "--json"])

    assert result.exit_code == 0 and result.stdout == "[]\n"
