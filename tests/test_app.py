"""`Falyx`: registration (decorator and object forms), lookup, hooks and the entry points."""

from __future__ import annotations

import pytest
import typer.main

from falyx import Action, Falyx, FalyxError, chain
from falyx.action import ChainedAction
from falyx.errors import CommandNotFound, RegistrationError
from falyx.history import ExecutionRegistry


@pytest.fixture
def app() -> Falyx:
    return Falyx("🚀 Test tools", program="t")


# -- registration ------------------------------------------------------------------------
def test_bare_decorator_registers_under_the_upper_cased_function_name(app: Falyx) -> None:
    @app.command
    def deploy() -> str:
        return "deployed"

    assert isinstance(deploy, Action)
    assert list(app.commands) == ["DEPLOY"]
    assert app.commands["DEPLOY"].action is deploy
    assert app.commands["DEPLOY"].cli_name == "deploy"


async def test_decorator_with_options_returns_the_registered_action(
    app: Falyx, registry: ExecutionRegistry
) -> None:
    def undo_build(target: str = "prod") -> None: ...

    @app.command(key="B", retry=2, rollback=undo_build, tags=["ci"])
    async def build(target: str = "prod") -> str:
        return f"{target}.tar.gz"

    command = app.get("B")
    assert isinstance(build, Action)
    assert command.action is build
    assert command.tags == ("ci",)
    assert build.rollback is undo_build
    assert build.retry_policy is not None and build.retry_policy.max_retries == 2
    assert await build("staging") == "staging.tar.gz"


async def test_decorated_command_is_chainable_and_rolled_back_in_a_chain(
    app: Falyx, registry: ExecutionRegistry
) -> None:
    undone: list[str] = []

    @app.command(key="B", rollback=lambda target: undone.append(target))
    async def build(target: str) -> str:
        return f"{target}.tar.gz"

    def publish(last_result: str | None = None) -> str:
        return f"published {last_result}"

    release = chain(build, publish, name="release", auto_inject=True)
    assert isinstance(release, ChainedAction)
    assert await release("prod") == "published prod.tar.gz"

    def explode() -> None:
        raise RuntimeError("no network")

    with pytest.raises(RuntimeError, match="no network"):
        await chain(build, explode, name="broken")("prod")
    assert undone == ["prod"]


def test_decorator_on_an_existing_action_registers_that_action(app: Falyx) -> None:
    existing = Action("sync_db", lambda: "synced")

    registered = app.command(key="S")(existing)

    assert registered is existing
    assert app.get("S").action is existing
    assert app.get("S").cli_name == "sync-db"


def test_name_defaults_to_the_function_name_with_dashes(app: Falyx) -> None:
    @app.command(key="M")
    def make_release_notes() -> None:
        """Write the notes."""

    assert app.get("M").cli_name == "make-release-notes"
    assert app.get("make-release-notes") is app.get("M")


def test_explicit_name_and_description_win_over_the_defaults(app: Falyx) -> None:
    @app.command(key="M", name="notes", description="Release notes")
    def make_release_notes() -> None:
        """Write the notes."""

    assert app.get("M").cli_name == "notes"
    assert app.get("M").description == "Release notes"


def test_description_is_the_first_docstring_line_and_help_the_whole(app: Falyx) -> None:
    @app.command
    def build() -> None:
        """Build the artefact.

        It goes to dist/.
        """

    command = app.get("BUILD")
    assert command.description == "Build the artefact."
    assert command.help_text == "Build the artefact.\n\nIt goes to dist/."


def test_description_without_docstring_is_the_function_name(app: Falyx) -> None:
    @app.command
    def build() -> None:
        pass

    assert app.get("BUILD").description == "build"


def test_duplicate_key_raises_at_registration_whatever_the_case(app: Falyx) -> None:
    app.add_command("R", "Release", lambda: None)

    with pytest.raises(RegistrationError, match="'R'"):
        app.add_command("r", "Again", lambda: None, name="again")
    assert list(app.commands) == ["R"]


def test_alias_colliding_with_a_key_or_an_alias_raises(app: Falyx) -> None:
    app.add_command("R", "Release", lambda: None, aliases=["rel"], name="release")

    with pytest.raises(RegistrationError, match="'REL'"):
        app.add_command("Q", "Query", lambda: None, aliases=["REL"], name="query")
    with pytest.raises(RegistrationError, match="'R'"):
        app.add_command("P", "Publish", lambda: None, aliases=["r"], name="publish")
    with pytest.raises(RegistrationError, match="'REL'"):
        app.add_command("rel", "Relaunch", lambda: None, name="relaunch")
    assert list(app.commands) == ["R"]


def test_builtin_menu_keys_cannot_be_taken(app: Falyx) -> None:
    with pytest.raises(RegistrationError, match="'H'"):
        app.add_command("h", "Hello", lambda: None, name="hello")


def test_lookup_is_case_insensitive_for_keys_aliases_and_names(app: Falyx) -> None:
    command = app.add_command("R", "Release", lambda: None, aliases=["rel"], name="release")

    assert app.get("r") is command
    assert app.get("R") is command
    assert app.get("ReL") is command
    assert app.get("RELEASE") is command


def test_unknown_key_suggests_the_closest_key(app: Falyx) -> None:
    app.add_command("R", "Release", lambda: None)

    with pytest.raises(CommandNotFound, match=r"unknown command 'RR'; did you mean 'R'\?"):
        app.get("RR")


async def test_registration_after_run_key_raises(app: Falyx) -> None:
    app.add_command("R", "Release", lambda: "done")
    assert await app.run_key("R") == "done"

    with pytest.raises(FalyxError, match="already started"):
        app.add_command("Q", "Query", lambda: None)
    with pytest.raises(FalyxError, match="already started"):
        app.command(key="Z")(lambda: None)


async def test_registration_after_run_raises_even_if_no_command_ran(app: Falyx) -> None:
    app.add_command("R", "Release", lambda: "done")
    with pytest.raises(SystemExit):
        await app.run(["--help"])

    with pytest.raises(RegistrationError):
        app.add_command("Q", "Query", lambda: None)


async def test_registering_from_inside_a_running_command_raises(app: Falyx) -> None:
    @app.command(key="A")
    def add_more() -> None:
        app.add_command("Z", "Late", lambda: None)

    with pytest.raises(RegistrationError, match="'Z'"):
        await app.run_key("A")
    assert "Z" not in app.commands


def test_generated_typer_app_follows_the_registry(app: Falyx) -> None:
    app.add_command("R", "Release", lambda: None, name="release")
    before = app.typer
    app.add_command("Q", "Query", lambda: None, name="query")

    assert app.typer is not before
    group = typer.main.get_command(app.typer)
    assert {"release", "query"} <= set(group.list_commands(group.make_context("t", [])))


# -- hooks -------------------------------------------------------------------------------
async def test_app_hooks_run_for_every_command(app: Falyx) -> None:
    seen: list[str] = []
    app.hooks.register("before", lambda ctx: seen.append(f"before {ctx.command}"))
    app.add_command("A", "Alpha", lambda: "a")
    app.add_command("B", "Beta", lambda: "b")

    assert await app.run_key("A") == "a"
    assert await app.run_key("b") == "b"
    assert seen == ["before A", "before B"]


async def test_on_error_decorator_sees_every_failing_command(app: Falyx) -> None:
    failures: list[tuple[str | None, str]] = []

    @app.on("error")
    def remember(ctx) -> None:
        failures.append((ctx.command, str(ctx.exception)))

    def broken() -> None:
        raise RuntimeError("disk full")

    app.add_command("A", "Alpha", broken)
    app.add_command("B", "Beta", lambda: "fine")
    app.add_command("C", "Gamma", broken, name="gamma")

    for key in ("A", "C"):
        with pytest.raises(RuntimeError, match="disk full"):
            await app.run_key(key)
    assert await app.run_key("B") == "fine"
    assert callable(remember)
    assert failures == [("A", "disk full"), ("C", "disk full")]


async def test_on_error_hook_may_recover_the_command(app: Falyx) -> None:
    app.on("error")(lambda ctx: ctx.recover("fallback"))

    def broken() -> None:
        raise RuntimeError("disk full")

    app.add_command("A", "Alpha", broken)
    assert await app.run_key("A") == "fallback"


# -- entry points ------------------------------------------------------------------------
async def test_run_key_returns_the_result_inside_a_running_loop(app: Falyx) -> None:
    @app.command(key="B")
    async def build(target: str = "prod", *, fast: bool = False) -> str:
        return f"{target} fast={fast}"

    app.add_command("R", "Release", chain(build, lambda last_result: f"shipped {last_result}",
                                          name="release", auto_inject=True))

    assert await app.run_key("b", "qa", fast=True) == "qa fast=True"
    assert await app.run_key("R", target="staging") == "shipped staging fast=False"


async def test_run_key_records_the_run_in_the_app_registry(app: Falyx) -> None:
    app.add_command("A", "Alpha", lambda: 41)

    await app.run_key("A")

    latest = app.registry.latest()
    assert latest is not None
    assert (latest.command, latest.status, latest.result) == ("A", "OK", 41)


async def test_run_key_with_an_unknown_key_raises_command_not_found(app: Falyx) -> None:
    app.add_command("R", "Release", lambda: None)

    with pytest.raises(CommandNotFound, match="did you mean 'R'"):
        await app.run_key("RR")


async def test_run_ends_with_system_exit_and_can_be_called_repeatedly(
    app: Falyx, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[str] = []

    @app.command(key="A")
    def alpha(name: str = "x") -> None:
        calls.append(name)
        print(f"hello {name}")

    @app.command(key="F")
    def fail() -> None:
        raise RuntimeError("nope")

    codes = []
    for argv in (["run", "a", "--name", "one"], ["alpha", "--name", "two"], ["fail"],
                 ["run", "QQQ"], ["--version"]):
        with pytest.raises(SystemExit) as exit_info:
            await app.run(argv)
        codes.append(exit_info.value.code)

    assert codes == [0, 0, 1, 2, 0]
    assert calls == ["one", "two"]
    out, err = capsys.readouterr()
    assert "hello one\nhello two\n" in out
    assert "Error: RuntimeError: nope" in err


def test_sync_call_parses_argv_and_exits_with_the_code(
    app: Falyx, capsys: pytest.CaptureFixture[str]
) -> None:
    @app.command(key="A")
    def alpha() -> None:
        print("alpha ran")

    for _ in range(2):
        with pytest.raises(SystemExit) as exit_info:
            app(["run", "A"])
        assert exit_info.value.code == 0
    assert capsys.readouterr().out == "alpha ran\nalpha ran\n"


def test_sync_call_reads_sys_argv_by_default(
    app: Falyx, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    @app.command(key="A")
    def alpha(word: str = "") -> None:
        print(word)

    monkeypatch.setattr("sys.argv", ["t", "run", "a", "--word", "from-argv"])
    with pytest.raises(SystemExit) as exit_info:
        app()
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == "from-argv\n"


def test_keyboard_interrupt_inside_a_step_rolls_back_and_exits_130(capsys) -> None:
    """A KeyboardInterrupt raised by user code (not a signal) still ends in one line, 130."""
    undone: list[str] = []
    app = Falyx("kbi", program="kbi", history="off")

    def prepare() -> str:
        return "prepared"

    def interrupt() -> None:
        raise KeyboardInterrupt

    app.add_command("K", "Interrupt", chain(
        Action("prepare", prepare, rollback=lambda: undone.append("prepare")),
        Action("interrupt", interrupt), name="k"))
    with pytest.raises(SystemExit) as info:
        app(["run", "K", "-y"])
    assert info.value.code == 130
    assert undone == ["prepare"]
    assert capsys.readouterr().err.strip().splitlines()[-1] == "Interrupted."
    assert [r.status for r in app.registry.records(name="k")] == ["CANCELLED"]
