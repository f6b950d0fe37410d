"""`ShellAction`: results, errors, parameters, where it runs, and the step lifecycle."""

from __future__ import annotations

import inspect
import os
import pickle
import shlex
from pathlib import Path

import pytest

import falyx
from falyx import Falyx, HookType, RetryPolicy, ShellAction, ShellCommandError, chain
from falyx.action.parameters import REQUIRED_OPTION
from falyx.action.shell_template import quoted_command
from falyx.errors import FalyxError, InvalidActionError, UsageError
from falyx.history import ExecutionRegistry
from tests.conftest import FakeSleep


def sh(name: str, script: str, **options: object) -> ShellAction:
    """A step running `script` with `sh -c` (no placeholders: the script is fixed text)."""
    return ShellAction(name, ["sh", "-c", script], **options)  # type: ignore[arg-type]


# -- result and output --------------------------------------------------------------------------
@pytest.mark.parametrize(("script", "result"), [
    ("printf 'v1.2.3\\n'", "v1.2.3"),
    ("printf 'a\\nb\\n\\n'", "a\nb\n"),  # only the final newline goes
    ("printf 'no newline'", "no newline"),
    ("true", ""),
    ("printf '\\377ok\\n'", "\ufffdok"),  # undecodable bytes become U+FFFD
])
async def test_the_result_is_stdout_without_its_final_newline(
    registry: ExecutionRegistry, script: str, result: str
) -> None:
    assert await sh("s", script)() == result


async def test_output_goes_through_to_stdout_and_stderr_after_what_python_printed(
    registry: ExecutionRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    print("from python", end=" ")  # no newline, still buffered when the child starts

    result = await sh("s", "echo out1; echo err1 >&2; echo out2")()

    captured = capsys.readouterr()
    assert captured.out == "from python out1\nout2\n"
    assert captured.err == "err1\n"
    assert result == "out1\nout2"


# -- failures -----------------------------------------------------------------------------------
async def test_a_non_zero_exit_raises_with_code_argv_and_stderr_tail(
    registry: ExecutionRegistry,
) -> None:
    script = "for i in $(seq 1 30); do echo line $i >&2; done; echo 'Error: forbidden' >&2; exit 3"
    step = sh("apply", script)

    with pytest.raises(ShellCommandError) as caught:
        await step()

    exc = caught.value
    assert exc.returncode == 3
    assert exc.argv == ["sh", "-c", script]
    assert exc.stderr_tail.splitlines() == [
        *(f"line {i}" for i in range(12, 31)), "Error: forbidden"]
    assert str(exc) == (  # the command between backticks, shortened in the middle
        """`sh -c "for i in \\$(seq 1 30); do echo line \\$i >&2;…or: forbidden' >&2; exit 3"` """
        "exited with 3: Error: forbidden")
    assert exc.exit_code == 1 and isinstance(exc, FalyxError)


async def test_a_long_script_is_cut_in_the_middle_so_its_ending_and_error_survive(
    registry: ExecutionRegistry, fake_sleep: FakeSleep, falyx_log: pytest.LogCaptureFixture
) -> None:
    script = "".join(f"echo step {i} >/dev/null; " for i in range(30))
    script += "echo 'disk full on /dev/sda1' >&2; exit 4"
    step = sh("s", script, retry=RetryPolicy(max_retries=1, delay=0))

    with pytest.raises(ShellCommandError) as caught:
        await step()

    message = str(caught.value)
    assert message.startswith("""`sh -c "echo step 0 >/dev/null; echo step 1""")
    assert message.endswith("""exit 4"` exited with 4: disk full on /dev/sda1""")
    command = message.split("`")[1]
    assert len(command) <= 80 and command.count("…") == 1 and "'\"'\"'" not in command
    warnings = [r.getMessage() for r in falyx_log.records if "failed due to" in r.getMessage()]
    assert warnings == [f"[s] Retry attempt 1/1 failed due to '{message}'."]


@pytest.mark.parametrize(("command", "shown"), [
    (["kubectl", "apply", "-f", "k8s/"], "'kubectl apply -f k8s/'"),
    (["sh", "-c", "exit 2"], "`sh -c 'exit 2'`"),
    (["python3", "-c", "import sys; sys.exit(2)"], "`python3 -c 'import sys; sys.exit(2)'`"),
    (["sh", "-c", "echo 'no' >&2; exit 2"], '''`sh -c "echo 'no' >&2; exit 2"`'''),
])
async def test_the_failed_command_is_quoted_once_never_nested(
    registry: ExecutionRegistry, tmp_path: Path, command: list[str], shown: str
) -> None:
    (tmp_path / "kubectl").write_text("#!/bin/sh\nexit 2\n")  # fails as the real one would
    (tmp_path / "kubectl").chmod(0o755)
    path = f"{tmp_path}{os.pathsep}{os.environ['PATH']}"
    with pytest.raises(ShellCommandError) as caught:
        await ShellAction("s", command, env={"PATH": path})()

    assert str(caught.value).startswith(f"{shown} exited with 2")
    assert shlex.split(shown[1:-1]) == command


async def test_the_message_is_one_line_even_for_a_multi_line_script(
    registry: ExecutionRegistry,
) -> None:
    with pytest.raises(ShellCommandError) as caught:
        await ShellAction("s", "echo one\nexit 1", shell=True)()

    assert str(caught.value) == "'echo one ⏎ exit 1' exited with 1"


async def test_a_program_killed_by_a_signal_says_which(registry: ExecutionRegistry) -> None:
    with pytest.raises(ShellCommandError) as caught:
        await sh("s", "echo dying >&2; kill -KILL $$")()

    assert caught.value.returncode == -9
    assert str(caught.value).endswith("` was killed by SIGKILL: dying")


@pytest.mark.parametrize(("command", "message"), [
    ("kubectl-missing apply -f k8s/",
     "'kubectl-missing apply -f k8s/' exited with 127: kubectl-missing: command not found"),
    ("./missing.sh --now", "'./missing.sh --now' exited with 127: ./missing.sh: "
                           "No such file or directory"),
    ("{tmp}/notes.txt", "'{tmp}/notes.txt' exited with 126: {tmp}/notes.txt: Permission denied"),
    ("{tmp}/garbage", "'{tmp}/garbage' exited with 126: {tmp}/garbage: Exec format error"),
])
async def test_a_program_that_cannot_start_is_a_shell_error_with_the_shells_wording(
    registry: ExecutionRegistry, fake_sleep: FakeSleep, tmp_path: Path, command: str,
    message: str
) -> None:
    (tmp_path / "notes.txt").write_text("not a program\n")  # not executable
    (tmp_path / "garbage").write_bytes(b"\x7fELF\x00\x00")
    (tmp_path / "garbage").chmod(0o755)
    line = command.replace("{tmp}", str(tmp_path))
    step = ShellAction("s", line, retry=3)

    with pytest.raises(ShellCommandError) as caught:
        await step()

    # the command is quoted once, cut in the middle when long (the temporary folder may be)
    expected = message.replace(repr(command), quoted_command(line)).replace("{tmp}", str(tmp_path))
    assert str(caught.value) == expected
    assert caught.value.returncode == int(message.split("exited with ")[1][:3])
    assert registry.latest().attempts == 1 and fake_sleep.waits == []  # never retried


async def test_check_false_returns_the_output_and_records_the_exit_status(
    registry: ExecutionRegistry,
) -> None:
    result = await sh("s", "echo partial; exit 4", check=False)()

    assert result == "partial"
    assert registry.latest().extra["returncode"] == 4


def test_the_error_survives_pickling_with_its_fields() -> None:
    exc = ShellCommandError("'x' exited with 2", returncode=2, argv=["x"], stderr_tail="e",
                            retryable=False)

    copy = pickle.loads(pickle.dumps(exc))

    assert (str(copy), copy.returncode, copy.argv, copy.stderr_tail, copy.retryable) == (
        "'x' exited with 2", 2, ["x"], "e", False)


# -- where it runs -------------------------------------------------------------------------------
async def test_cwd_is_where_the_program_runs(registry: ExecutionRegistry, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()

    assert await ShellAction("s", "pwd", cwd=tmp_path / "sub")() == str(tmp_path / "sub")


@pytest.mark.parametrize(("make", "what"), [(False, "does not exist"),
                                           (True, "is not a directory")])
async def test_a_missing_cwd_is_a_clear_error_not_retried(
    registry: ExecutionRegistry, tmp_path: Path, make: bool, what: str
) -> None:
    cwd = tmp_path / "build"
    if make:
        cwd.write_text("a file")

    with pytest.raises(ShellCommandError) as caught:
        await ShellAction("s", "make all", cwd=cwd, retry=2)()

    assert str(caught.value) == f"'make all' cannot run: working directory '{cwd}' {what}"
    assert caught.value.returncode is None
    assert registry.latest().attempts == 1


async def test_env_adds_to_the_environment_and_never_replaces_it(
    registry: ExecutionRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FALYX_INHERITED", "kept")
    step = sh("s", 'echo "$FALYX_INHERITED $STAGE $REPLICAS $DIR"',
              env={"STAGE": "prod", "REPLICAS": 3, "DIR": Path("/srv")})

    assert await step() == "kept prod 3 /srv"
    assert "STAGE" not in os.environ


@pytest.mark.parametrize(("options", "message"), [
    ({"env": {"A": None}}, "env A=None must be a string, a number or a path"),
    ({"env": {"A=B": "x"}}, "env name 'A=B' is not a variable name"),
    ({"env": ["A"]}, "env must be a mapping"),
    ({"cwd": 3}, "cwd must be a path, got 3"),
    ({"params": {"tag": 1}}, "params declares 'tag' but the command has no {tag} placeholder"),
    ({"params": {"last_result": 1}}, "params name 'last_result' must be an identifier other"),
    ({"params": ["x"]}, "params must be a mapping of name to default"),
])
def test_bad_step_options_are_refused_at_definition(options: dict, message: str) -> None:
    with pytest.raises(InvalidActionError, match=r"^step 'deploy': ") as caught:
        ShellAction("deploy", "echo hi", **options)

    assert message in str(caught.value)


@pytest.mark.parametrize("grace", [-1, "5", True])
def test_kill_grace_must_be_seconds(grace: object) -> None:
    with pytest.raises(ValueError, match="kill_grace must be seconds >= 0"):
        ShellAction("s", "true", kill_grace=grace)  # type: ignore[arg-type]


# -- parameters ---------------------------------------------------------------------------------
def test_parameters_come_from_params_then_undeclared_placeholders() -> None:
    step = ShellAction("deploy", "deploy {target} --replicas {replicas} --dry={dry} "
                       "--note {note} --by {user} --after {last_result}",
                       params={"target": ..., "replicas": 2, "dry": False, "note": None})

    params = step.parameters()

    assert [(p.name, p.kind, p.annotation, p.default) for p in params] == [
        ("target", inspect.Parameter.KEYWORD_ONLY, str, REQUIRED_OPTION),
        ("replicas", inspect.Parameter.KEYWORD_ONLY, int, 2),
        ("dry", inspect.Parameter.KEYWORD_ONLY, bool, False),
        ("note", inspect.Parameter.KEYWORD_ONLY, str, None),
        ("user", inspect.Parameter.KEYWORD_ONLY, str, REQUIRED_OPTION),
    ]
    assert inspect.Signature(params)  # a valid signature, as the CLI builds one
    assert [k for k in ("target", "user", "last_result", "other")
            if step.accepts_keyword(k)] == ["target", "user", "last_result"]


def test_a_custom_inject_into_name_is_not_a_parameter_either() -> None:
    step = ShellAction("s", "echo {prev}", inject_into="prev")

    assert step.parameters() == []
    assert step.accepts_keyword("prev")


async def test_params_defaults_fill_placeholders_and_keywords_override_them(
    registry: ExecutionRegistry,
) -> None:
    step = ShellAction("s", ["echo", "{target}", "x{replicas}"], params={"target": "prod",
                                                                          "replicas": 2})

    assert await step() == "prod x2"
    assert await step(replicas=5) == "prod x5"
    assert registry.latest().kwargs == {"target": "prod", "replicas": 5}  # as it ran


async def test_a_keyword_the_command_does_not_use_is_ignored_like_str_format(
    registry: ExecutionRegistry,
) -> None:
    assert await ShellAction("s", "echo {a}")(a="1", unrelated="2") == "1"


async def test_run_key_passes_values_and_a_missing_one_is_a_usage_error() -> None:
    app = Falyx("t", program="t", history="off")
    app.add_command("T", "Tag", ShellAction("tag", ["echo", "tagged", "{tag}"],
                                            params={"tag": ...}))

    assert await app.run_key("T", tag="v1; rm -rf /") == "tagged v1; rm -rf /"
    with pytest.raises(UsageError, match=r"no value for placeholder \{tag\}"):
        await app.run_key("T")
    assert [(r.name, r.kind, r.status) for r in app.registry.records()][-2:] == [
        ("tag", "ShellAction", "ERROR"), ("Tag", "Command", "ERROR")]


# -- the lifecycle ------------------------------------------------------------------------------
async def test_last_result_flows_in_from_the_previous_step(registry: ExecutionRegistry) -> None:
    def version() -> str:
        return "1.4.0"

    release = chain(version, ShellAction("tag", "echo tagging v{last_result}"),
                    auto_inject=True)

    assert await release() == "tagging v1.4.0"


async def test_retry_reruns_the_program_until_it_succeeds(
    registry: ExecutionRegistry, fake_sleep: FakeSleep, tmp_path: Path
) -> None:
    counter = tmp_path / "n"
    script = f'n=$(( $(cat {counter} 2>/dev/null || echo 0) + 1 )); echo $n > {counter}; ' \
             'echo "try $n"; [ $n -ge 3 ] || { echo "flaky $n" >&2; exit 1; }'
    step = sh("flaky", script, retry=RetryPolicy(max_retries=3, delay=0.5))

    assert await step() == "try 3"
    assert registry.latest().attempts == 3
    assert fake_sleep.waits == [0.5, 1.0]


async def test_a_shell_step_rolls_back_with_a_shell_rollback_given_the_same_values(
    registry: ExecutionRegistry, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    tag = ShellAction("tag", "sh -c 'echo tag $0 >> \"$1\"' {tag} {log}",
                      params={"tag": ..., "log": str(log)},
                      rollback=ShellAction("untag", "sh -c 'echo untag $0 >> \"$1\"' {tag} {log}"))
    deploy = sh("deploy", "echo 'cluster unreachable' >&2; exit 1")

    with pytest.raises(ShellCommandError, match="cluster unreachable"):
        await chain(tag, deploy)(tag="v2")

    assert log.read_text() == "tag v2\nuntag v2\n"
    kinds = [(r.name, r.kind, r.status) for r in registry.records()]
    assert ("tag", "Rollback", "OK") in kinds and ("untag", "ShellAction", "OK") in kinds


async def test_hooks_see_the_step_and_on_error_may_recover(registry: ExecutionRegistry) -> None:
    seen: list[tuple[str, str]] = []

    def on_error(ctx: falyx.ExecutionContext) -> None:
        seen.append((ctx.name, type(ctx.exception).__name__))
        ctx.recover("fallback")

    step = sh("s", "exit 2", hooks={HookType.BEFORE: lambda ctx: seen.append((ctx.name, "before")),
                                    "error": on_error})

    assert await step() == "fallback"
    assert seen == [("s", "before"), ("s", "ShellCommandError")]
    assert registry.latest().status == "OK"


# -- preview ------------------------------------------------------------------------------------
def test_the_preview_line_shows_the_command_with_its_placeholders(tmp_path: Path) -> None:
    step = ShellAction("tag", ["git", "tag", "{tag}"], params={"tag": ...}, retry=2,
                       timeout=30, cwd=tmp_path, rollback=ShellAction("untag", "git tag -d {tag}"))
    app = Falyx("t", program="t", history="off")
    command = app.add_command("T", "Tag", chain(ShellAction("fetch", "git fetch --tags"), step,
                                                name="release"))

    assert command.preview().lines() == [
        "Command: 'T' — Tag",
        "    ⛓ ChainedAction 'release'",
        "        $ git fetch --tags",
        "        $ git tag {tag}",
        "            ↻ Retries: 2x, delay 1.0s, backoff 2.0x",
        "            ⏱ Timeout: 30s",
        "            ↩ Rollback: untag",
        f"            📁 cwd: {tmp_path}",
    ]
    assert repr(step) == "ShellAction(name='tag', command='git tag {tag}')"


def test_shell_steps_and_their_error_are_exported() -> None:
    from falyx.action import ShellAction as FromAction

    assert FromAction is falyx.ShellAction
    assert {"ShellAction", "ShellCommandError"} <= set(falyx.__all__)
    assert falyx.ShellCommandError.__module__ == "falyx.errors"
