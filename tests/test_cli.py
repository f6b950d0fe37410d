"""The generated Typer CLI, in-process: every command-line form, its output and exit code."""

from __future__ import annotations

import enum
import json
import re
from typing import Annotated, Optional

import pytest
import typer

from falyx import Falyx, RetryPolicy, chain, group, step
from falyx.testing import CliResult, run_cli

LOG_KEYS = {"ts", "level", "logger", "message", "action", "event", "attempt", "duration",
            "status"}


def make_app() -> Falyx:
    """Build, publish, a confirmed release chain, a failing command and a tagged lint."""
    app = Falyx("🚀 Test tools", program="tools", version="9.9")

    @app.command(key="B", tags=["ci"])
    async def build(target: str = "prod") -> str:
        """Build the artefact.

        Writes it to the dist folder.
        """
        print(f"built {target}")
        return f"{target}.tar.gz"

    @app.command(key="P", aliases=["ship"])
    def publish(
        channel: Annotated[str, typer.Option(help="Where to announce it.")] = "stable",
        force: bool = False,
        label: Optional[list[str]] = None,
    ) -> None:
        """Publish the artefact."""
        print(f"channel={channel} force={force} labels={list(label or [])}")

    def notify() -> str:
        print("notified")
        return "released"

    app.add_command("R", "Release", chain(build, notify, name="release"), confirm=True)

    @app.command(key="F")
    def fail() -> None:
        """Always fails."""
        token = "".join(reversed("eulav-terces"))  # the value never appears in this source
        raise RuntimeError(f"upstream refused a token of {len(token)} characters")

    @app.command(key="L", tags=["ci"])
    async def lint() -> None:  # async: a worker thread's print could interleave with build's
        print("linted")

    return app


@pytest.fixture
def app() -> Falyx:
    return make_app()


def flaky_app(failures: int, policy: RetryPolicy | None, attempts: list[int]) -> Falyx:
    """One command `K` whose first `failures` attempts raise `Random failure!`."""
    app = Falyx("Flaky", program="flaky")

    @app.command(key="K", retry=policy)
    def flaky() -> str:
        attempts.append(len(attempts) + 1)
        if len(attempts) <= failures:
            raise RuntimeError("Random failure!")
        print("ok")
        return "ok"

    return app


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


# -- named subcommands: options come from the signature --------------------------------
def test_named_subcommand_takes_options_from_the_signature(app: Falyx) -> None:
    result = run_cli(app, ["build", "--target", "qa"])

    assert result.exit_code == 0, result.output
    assert result.stdout == "built qa\n"


def test_named_subcommand_uses_the_signature_defaults(app: Falyx) -> None:
    result = run_cli(app, ["build"])

    assert result.exit_code == 0, result.output
    assert result.stdout == "built prod\n"


def test_bool_parameter_becomes_a_flag_and_list_parameter_repeats(app: Falyx) -> None:
    flagged = run_cli(app, ["publish", "--force", "--label", "a", "--label", "b"])
    default = run_cli(app, ["publish", "--no-force", "--channel", "beta"])

    assert flagged.exit_code == 0, flagged.output
    assert flagged.stdout == "channel=stable force=True labels=['a', 'b']\n"
    assert default.stdout == "channel=beta force=False labels=[]\n"


def test_subcommand_help_shows_the_docstring_and_annotated_option_help(app: Falyx) -> None:
    build_help = run_cli(app, ["build", "--help"])
    publish_help = run_cli(app, ["publish", "--help"])

    assert build_help.exit_code == 0
    assert "Build the artefact." in build_help.stdout
    assert "Writes it to the dist folder." in build_help.stdout
    assert "--target" in build_help.stdout
    assert "--skip-confirm" in build_help.stdout  # the run options are on every subcommand
    assert "Where to announce it." in publish_help.stdout
    assert "--force" in publish_help.stdout and "--label" in publish_help.stdout


def test_chain_takes_its_options_from_the_first_step(app: Falyx) -> None:
    result = run_cli(app, ["release", "--target", "qa", "-y"])

    assert result.exit_code == 0, result.output
    assert result.stdout == "built qa\nnotified\n"


def release_app() -> Falyx:
    """`release`: build(tag) -> group(lint(path), typecheck(strict)) -> deploy(env, tag)."""
    app = Falyx("Release", program="rel")

    def build(tag: str) -> str:
        print(f"build tag={tag}")
        return f"app-{tag}.whl"

    def lint(path: str = ".") -> None:
        print(f"lint path={path}")

    def typecheck(strict: bool = False) -> None:
        print(f"typecheck strict={strict}")

    @step(inject_last_result=True)  # the previous result; never an option
    def deploy(tag: str, env: str = "staging", last_result: object = None) -> None:
        print(f"deploy env={env} tag={tag} previous={last_result}")

    checks = group(lint, typecheck, name="checks")
    app.add_command("R", "Release", chain(build, checks, deploy, name="release"))
    app.add_command("C", "Checks", checks, name="checks")
    return app


@pytest.mark.parametrize("argv", [
    ["release", "v2", "--env", "prod", "--path", "src", "--strict"],
    ["run", "R", "v2", "--strict", "--path", "src", "--env", "prod"],
])
def test_chain_options_are_the_union_and_each_step_gets_the_ones_it_declares(
    argv: list[str],
) -> None:
    result = run_cli(release_app(), argv)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "build tag=v2"
    assert sorted(lines[1:3]) == ["lint path=src", "typecheck strict=True"]
    assert lines[3] == ("deploy env=prod tag=v2 "
                        "previous=[('lint', None), ('typecheck', None)]")


def test_chain_help_lists_every_steps_options_once_and_never_the_injected_keyword() -> None:
    result = run_cli(release_app(), ["release", "--help"])

    assert result.exit_code == 0, result.output
    assert re.search(r"│ \*\s+tag\s", result.stdout)  # build's required argument
    for option in ("--path", "--strict", "--env"):
        assert result.stdout.count(option) == 1, option
    assert "last-result" not in result.stdout


def test_group_members_with_different_parameters_each_get_their_own() -> None:
    result = run_cli(release_app(), ["checks", "--path", "lib"])

    assert result.exit_code == 0, result.output
    assert sorted(result.stdout.splitlines()) == ["lint path=lib", "typecheck strict=False"]


# -- run KEY [ARGS] ----------------------------------------------------------------------
def test_run_by_key_takes_the_same_arguments(app: Falyx) -> None:
    result = run_cli(app, ["run", "B", "--target", "qa"])

    assert result.exit_code == 0, result.output
    assert result.stdout == "built qa\n"


@pytest.mark.parametrize("key", ["b", "B", "build", "BUILD"])
def test_run_finds_keys_and_names_in_any_case(app: Falyx, key: str) -> None:
    result = run_cli(app, ["run", key])

    assert result.exit_code == 0, result.output
    assert result.stdout == "built prod\n"


def test_run_finds_an_alias(app: Falyx) -> None:
    result = run_cli(app, ["run", "SHIP", "--force"])

    assert result.exit_code == 0, result.output
    assert result.stdout == "channel=stable force=True labels=[]\n"


@pytest.mark.parametrize("argv", [["run", "-y", "r"], ["run", "r", "-y"],
                                  ["run", "r", "--target", "qa", "--skip-confirm"]])
def test_skip_confirm_is_accepted_before_or_after_the_key(app: Falyx, argv: list[str]) -> None:
    result = run_cli(app, argv)

    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("notified\n")


# -- built-in commands -------------------------------------------------------------------
def test_run_all_runs_every_command_with_the_tag(app: Falyx) -> None:
    result = run_cli(app, ["run-all", "-t", "ci", "-y"])

    assert result.exit_code == 0, result.output
    assert sorted(result.stdout.splitlines()) == ["built prod", "linted"]


def test_run_all_with_an_unknown_tag_exits_2(app: Falyx) -> None:
    result = run_cli(app, ["run-all", "--tag", "nightly"])

    assert result.exit_code == 2
    assert "no command has the tag 'nightly'" in result.stderr


def test_run_all_exits_1_when_one_tagged_command_fails() -> None:
    app = Falyx("T", program="t")
    app.add_command("A", "Alpha", lambda: print("alpha"), tags=["ci"], name="alpha")
    app.add_command("B", "Beta", lambda: 1 / 0, tags=["ci"], name="beta")

    result = run_cli(app, ["run-all", "-t", "ci"])

    assert result.exit_code == 1
    assert result.stdout == "alpha\n"
    assert "Error [B beta]: ZeroDivisionError: division by zero" in result.stderr


def test_preview_draws_the_tree_on_stderr_and_runs_nothing(app: Falyx) -> None:
    result = run_cli(app, ["preview", "r"])

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "Command: 'R' — Release" in result.stderr
    assert "⛓ ChainedAction 'release'" in result.stderr
    assert "⚙ Action 'build'" in result.stderr
    assert "built" not in result.output


def test_preview_of_an_unknown_key_exits_2_with_a_suggestion(app: Falyx) -> None:
    result = run_cli(app, ["preview", "RR"])

    assert result.exit_code == 2
    assert "did you mean 'R'?" in result.stderr


def test_help_command_lists_commands_grouped_by_tag(app: Falyx) -> None:
    result = run_cli(app, ["help"])

    assert result.exit_code == 0
    assert "[B] Build the artefact." in result.stderr
    assert "[P] Publish the artefact. (SHIP)" in result.stderr
    assert "# ci" in result.stderr
    assert "[H] Help" in result.stderr


def test_help_option_lists_every_subcommand_with_its_description(app: Falyx) -> None:
    result = run_cli(app, ["--help"])

    assert result.exit_code == 0
    for name in ("build", "publish", "release", "fail", "lint", "run", "run-all", "preview",
                 "help", "history"):
        assert re.search(rf"│ {re.escape(name)}\s", result.stdout), name
    assert "Build the artefact." in result.stdout
    assert "🚀 Test tools" in result.stdout


def test_version_option_prints_program_and_version(app: Falyx) -> None:
    result = run_cli(app, ["--version"])

    assert result.exit_code == 0
    assert result.stdout == "tools 9.9\n"


def test_no_command_without_a_terminal_prints_help_and_exits_2(app: Falyx) -> None:
    result = run_cli(app, [])

    assert result.exit_code == 2
    assert "Usage: tools" in result.stdout


def test_menu_without_a_terminal_exits_2(app: Falyx) -> None:
    result = run_cli(app, ["--menu"])

    assert result.exit_code == 2
    assert "--menu needs a terminal" in result.stderr


def test_app_mounted_in_a_larger_typer_app_keeps_its_global_options(app: Falyx) -> None:
    from typer.testing import CliRunner

    outer = typer.Typer()
    outer.command("other")(lambda: None)
    outer.add_typer(app.typer, name="ops")

    result = CliRunner().invoke(outer, ["ops", "-v", "run", "F"])

    assert result.exit_code == 1
    assert "Error: RuntimeError: upstream refused" in result.stderr
    assert "Traceback (most recent call last)" in result.stderr  # -v reached the command


# -- bad input: exit 2 -------------------------------------------------------------------
def test_unknown_key_exits_2_with_a_suggestion_on_stderr(app: Falyx) -> None:
    result = run_cli(app, ["run", "RR"])

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip() == "Error: unknown command 'RR'; did you mean 'R'?"


@pytest.mark.parametrize("argv", [
    ["build", "--bogus"],
    ["run", "B", "--bogus"],
    ["build", "--target"],
    ["run", "B", "--retries", "-1"],
    ["--log-format", "xml", "build"],
    ["no-such-command"],
])
def test_bad_option_exits_2_without_running(app: Falyx, argv: list[str]) -> None:
    result = run_cli(app, argv)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Error" in result.stderr


def test_confirmation_without_a_terminal_exits_2_and_mentions_skip_confirm(app: Falyx) -> None:
    result = run_cli(app, ["run", "R"])

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "needs confirmation" in result.stderr
    assert "pass -y" in result.stderr


def test_confirm_option_asks_even_for_a_command_without_confirm(app: Falyx) -> None:
    result = run_cli(app, ["build", "--confirm"])

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "-y" in result.stderr


def test_never_prompt_runs_with_the_default_answer(app: Falyx) -> None:
    result = run_cli(app, ["-n", "run", "R"])

    assert result.exit_code == 0, result.output
    assert result.stdout == "built prod\nnotified\n"
    assert "ChainedAction 'release'" in result.stderr  # previewed before the (skipped) prompt


# -- failures: exit 1 --------------------------------------------------------------------
def test_failing_command_exits_1_with_one_error_line_and_no_traceback(app: Falyx) -> None:
    result = run_cli(app, ["fail"])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "Error: RuntimeError: upstream refused a token of 12 characters"]
    assert "Traceback" not in result.output


def test_verbose_failure_shows_a_traceback_without_local_variables(app: Falyx) -> None:
    result = run_cli(app, ["-v", "run", "F"])

    assert result.exit_code == 1
    assert "Error: RuntimeError: upstream refused a token" in result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert 'raise RuntimeError(f"upstream refused' in result.stderr
    assert "secret-value" not in result.output


def test_failing_chain_rolls_back_before_exiting_1() -> None:
    app = Falyx("T", program="t")
    build = app.command(key="B", rollback=lambda: print("rolled back build"))(
        lambda: print("built"))

    def deploy() -> None:
        raise RuntimeError("deploy failed")

    app.add_command("R", "Release", chain(build, deploy, name="release"))
    result = run_cli(app, ["run", "R"])

    assert result.exit_code == 1
    assert result.stdout == "built\nrolled back build\n"
    warning, error = result.stderr.splitlines()
    assert warning.endswith("WARNING  [<lambda>] Rolled back after 'deploy' failed")
    assert error == "Error: RuntimeError: deploy failed"


# -- --json and --summary ----------------------------------------------------------------
def test_json_prints_one_object_after_the_users_output(app: Falyx) -> None:
    result = run_cli(app, ["run", "B", "--json", "--target", "qa"])

    assert result.exit_code == 0, result.output
    user_line, json_line = result.stdout.splitlines()
    assert user_line == "built qa"
    outcome = json.loads(json_line)
    assert set(outcome) == {"command", "status", "result", "duration", "error"}
    assert outcome["command"] == "B"
    assert outcome["status"] == "OK"
    assert outcome["result"] == "qa.tar.gz"
    assert isinstance(outcome["duration"], float) and outcome["duration"] >= 0
    assert outcome["error"] is None


def test_json_of_a_failure_has_status_error_and_the_error_text(app: Falyx) -> None:
    result = run_cli(app, ["fail", "--json"])

    assert result.exit_code == 1
    (outcome,) = json_lines(result.stdout)
    assert outcome["status"] == "ERROR"
    assert outcome["result"] is None
    assert outcome["error"] == "RuntimeError: upstream refused a token of 12 characters"


def test_json_result_that_is_not_json_is_given_as_its_repr() -> None:
    app = Falyx("T", program="t")
    app.add_command("S", "Set", lambda: {1, 2}, name="set")

    result = run_cli(app, ["run", "S", "--json"])

    assert json.loads(result.stdout)["result"] == "{1, 2}"


def test_summary_prints_a_table_of_every_step_on_stderr(app: Falyx) -> None:
    result = run_cli(app, ["release", "-y", "--summary"])

    assert result.exit_code == 0, result.output
    assert result.stdout == "built prod\nnotified\n"
    assert "Execution Summary" in result.stderr
    for row in ("build", "notify", "release", "Release"):
        assert re.search(rf"│ {row}\s+│", result.stderr), row
    assert "'prod.tar.gz'" in result.stderr


# -- retry overrides and logs ------------------------------------------------------------
def test_retries_and_retry_delay_override_the_commands_policy() -> None:
    attempts: list[int] = []
    app = flaky_app(99, RetryPolicy(max_retries=5, delay=30), attempts)

    result = run_cli(app, ["run", "K", "--retries", "1", "--retry-delay", "0"])

    assert result.exit_code == 1
    assert attempts == [1, 2]
    assert "Retry attempt 1/1 failed due to 'Random failure!'." in result.stderr


def test_retries_zero_means_a_single_attempt() -> None:
    attempts: list[int] = []
    app = flaky_app(99, RetryPolicy(max_retries=5, delay=30), attempts)

    result = run_cli(app, ["flaky", "--retries", "0"])

    assert result.exit_code == 1
    assert attempts == [1]


def test_retries_gives_a_policy_to_a_command_without_one() -> None:
    attempts: list[int] = []
    app = flaky_app(99, None, attempts)

    result = run_cli(app, ["run", "K", "--retries", "2", "--retry-delay", "0"])

    assert result.exit_code == 1
    assert attempts == [1, 2, 3]


def test_retry_delay_alone_does_not_make_a_command_retry() -> None:
    attempts: list[int] = []
    app = flaky_app(99, None, attempts)

    result = run_cli(app, ["run", "K", "--retry-delay", "0", "--retry-backoff", "1"])

    assert result.exit_code == 1
    assert attempts == [1]


def test_retry_log_lines_have_the_documented_text_and_levels() -> None:
    attempts: list[int] = []
    app = flaky_app(2, RetryPolicy(max_retries=3, delay=0), attempts)

    result = run_cli(app, ["-v", "run", "K"])

    assert result.exit_code == 0, result.output
    assert result.stdout == "ok\n"  # logs never reach stdout
    lines = [re.sub(r"^\[[^]]+\] ", "", line) for line in result.stderr.splitlines()]
    lines = [line for line in lines if not line.startswith("DEBUG")]  # run-level lines
    assert lines == [
        "INFO     [flaky] Retrying (1/3) in 0.0s due to 'Random failure!'...",
        "WARNING  [flaky] Retry attempt 1/3 failed due to 'Random failure!'.",
        "INFO     [flaky] Retrying (2/3) in 0.0s due to 'Random failure!'...",
        "WARNING  [flaky] Recovered on attempt 3/4",
    ]


def test_default_log_level_shows_warnings_only() -> None:
    app = flaky_app(2, RetryPolicy(max_retries=3, delay=0), [])

    result = run_cli(app, ["run", "K"])

    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("WARNING  [flaky] Retry attempt 1/3 failed due to 'Random failure!'.")
    assert lines[1].endswith("WARNING  [flaky] Recovered on attempt 3/4")


def _assert_json_log(stderr: str) -> list[dict]:
    records = json_lines(stderr)
    assert records
    for record in records:
        assert set(record) == LOG_KEYS
        assert record["logger"] == "falyx"
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*\+00:00$", record["ts"])
    steps = [r for r in records if r["level"] != "DEBUG"]  # -v adds run-level lines
    assert all(record["action"] == "flaky" for record in steps)
    return steps


def test_log_format_json_prints_one_json_object_per_line() -> None:
    app = flaky_app(2, RetryPolicy(max_retries=3, delay=0), [])

    result = run_cli(app, ["--log-format", "json", "-v", "run", "K"])

    assert result.exit_code == 0, result.output
    records = _assert_json_log(result.stderr)
    assert [(r["level"], r["event"], r["attempt"]) for r in records] == [
        ("INFO", "retry", 1), ("WARNING", "retry_failed", 2), ("INFO", "retry", 2),
        ("WARNING", "retry_succeeded", 3)]
    assert records[1]["message"] == "[flaky] Retry attempt 1/3 failed due to 'Random failure!'."
    assert records[0]["message"] == "[flaky] Retrying (1/3) in 0.0s due to 'Random failure!'..."


def test_log_format_json_from_the_environment() -> None:
    app = flaky_app(2, RetryPolicy(max_retries=3, delay=0), [])

    result = run_cli(app, ["run", "K"], env={"FALYX_LOG_FORMAT": "json"})

    assert result.exit_code == 0, result.output
    failed, recovered = _assert_json_log(result.stderr)
    assert failed["level"] == recovered["level"] == "WARNING"
    assert failed["message"] == "[flaky] Retry attempt 1/3 failed due to 'Random failure!'."
    assert recovered["message"] == "[flaky] Recovered on attempt 3/4"


def test_json_logs_and_json_outcome_keep_to_their_own_streams() -> None:
    app = flaky_app(1, RetryPolicy(max_retries=3, delay=0), [])

    result: CliResult = run_cli(app, ["--log-format", "json", "-v", "run", "K", "--json"])

    assert result.exit_code == 0, result.output
    user_line, outcome_line = result.stdout.splitlines()
    assert user_line == "ok"
    assert json.loads(outcome_line)["status"] == "OK"
    _assert_json_log(result.stderr)


def test_run_key_help_shows_the_commands_own_help(app: Falyx) -> None:
    result = run_cli(app, ["run", "b", "--help"])
    assert result.exit_code == 0
    assert "--target" in result.stdout and "Build the artefact." in result.stdout


@pytest.mark.parametrize("argv", [["run", "--help"], ["run", "-h"]])
def test_run_help_without_a_key_shows_runs_help(app: Falyx, argv: list[str]) -> None:
    result = run_cli(app, argv)
    assert result.exit_code == 0
    assert "run KEY [ARGS]" in result.stdout


def test_run_without_a_key_is_a_usage_error(app: Falyx) -> None:
    result = run_cli(app, ["run"])
    assert result.exit_code == 2
    assert "missing KEY" in result.stderr


def test_shell_completion_offers_the_keys_for_run(app: Falyx) -> None:
    env = {"_TOOLS_COMPLETE": "complete_bash", "COMP_WORDS": "tools run ", "COMP_CWORD": "2"}
    result = run_cli(app, [], env=env)
    assert result.stdout.split() == ["B", "P", "SHIP", "R", "F", "L"]


# -- what a confirmation shows ---------------------------------------------------------------
def test_preview_before_confirm_shows_the_arguments_the_command_will_run_with() -> None:
    app = Falyx("T", program="t")

    @app.command(key="D", confirm=True)
    def deploy(env: str = "staging", replicas: int = 1) -> None:
        print(f"deploying {replicas} to {env}")

    result = run_cli(app, ["-n", "run", "D", "--env", "prod"])

    assert result.exit_code == 0, result.output
    assert "⚑ Arguments: env=prod, replicas=1" in result.stderr
    assert result.stdout == "deploying 1 to prod\n"


def test_confirmation_text_names_the_function_and_its_arguments() -> None:
    app = Falyx("T", program="t")
    app.add_command("D", "Deploy", lambda env="x": None, name="deploy")
    command = app.get("D")

    assert command.confirmation_for({"env": "prod"}) == (
        "Confirm execution of D — Deploy (calls `<lambda>` with env=prod) ")
    assert command.confirmation_text == "Confirm execution of D — Deploy (calls `<lambda>`) "


def test_usage_line_shows_the_program_as_typed_and_history_keeps_the_stem(tmp_path) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT, subprocess_env

    script = tmp_path / "tools.py"
    script.write_text("from falyx import Falyx\napp = Falyx('T')\n"
                      "app.add_command('B', 'Build', lambda: None, name='build')\napp()\n")
    done = subprocess.run([sys.executable, str(script), "build", "--bogus"], text=True,
                          capture_output=True, cwd=ROOT, env=subprocess_env(), timeout=60)
    help_ = subprocess.run([sys.executable, str(script), "--help"], text=True,
                           capture_output=True, cwd=ROOT, env=subprocess_env(), timeout=60)

    state = tmp_path / "state"
    ran = subprocess.run([sys.executable, str(script), "build"], text=True, capture_output=True,
                         cwd=ROOT, timeout=60,
                         env=subprocess_env(FALYX_HISTORY="", XDG_STATE_HOME=str(state)))

    assert done.returncode == 2
    assert done.stderr == ("Error: No such option: --bogus. Try 'tools.py build -h' for help.\n")
    assert "Usage: tools.py [OPTIONS] COMMAND" in help_.stdout
    assert ran.returncode == 0, ran.stderr
    assert (state / "falyx" / "tools.db").is_file()  # the history file keeps the stem


def complete(app: Falyx, line: str) -> list[str]:
    """What bash completion offers for the last word of `line` (as Click's protocol runs it)."""
    words = line.split(" ")
    env = {"_TOOLS_COMPLETE": "complete_bash", "COMP_WORDS": line,
           "COMP_CWORD": str(len(words) - 1)}
    result = run_cli(app, [], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout.split()


def test_shell_completion_offers_keys_for_preview_and_tags_for_run_all(app: Falyx) -> None:
    assert complete(app, "tools preview ") == ["B", "P", "SHIP", "R", "F", "L"]
    assert complete(app, "tools preview s") == ["ship"]  # keys are case-insensitive
    assert complete(app, "tools run s") == ["ship"]
    assert complete(app, "tools run S") == ["SHIP"]
    assert complete(app, "tools run-all -t ") == ["ci"]
    assert complete(app, "tools run-all --tag c") == ["ci"]


def test_shell_completion_offers_a_commands_options_after_run_key(app: Falyx) -> None:
    assert complete(app, "tools run b --t") == ["--target"]
    assert complete(app, "tools run P --") == [
        "--channel", "--force", "--no-force", "--label", "--skip-confirm", "--confirm",
        "--summary", "--retries", "--retry-delay", "--retry-backoff", "--json", "--help"]


class Mode(str, enum.Enum):
    SAFE = "safe"
    FAST = "fast"


def test_shell_completion_offers_enum_values_after_run_key_option() -> None:
    app = Falyx("T", program="tools")

    def sync(mode: Mode = Mode.SAFE) -> None: ...

    app.add_command("S", "Sync", sync, name="sync")
    assert complete(app, "tools run s --mode ") == ["safe", "fast"]
    assert complete(app, "tools sync --mode f") == ["fast"]
