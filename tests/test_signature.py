"""Registration decides the CLI options: Typer's option names, reserved names, conflicts."""

from __future__ import annotations

import inspect
from typing import Annotated, Any, Optional

import pytest
import typer
import typer.main

from falyx import Action, Falyx, chain, group
from falyx.errors import RegistrationError
from falyx.signature import RESERVED_OPTIONS, cli_annotation, option_names


def param(signature: str, **namespace: Any) -> inspect.Parameter:
    exec(f"def f{signature}: ...", {"Annotated": Annotated, "Optional": Optional,
                                   "typer": typer, **namespace}, namespace)
    return Action("f", namespace["f"]).parameters()[0]


@pytest.mark.parametrize(("signature", "names"), [
    ("(retry_delay: float = 1.0)", ["--retry-delay"]),
    ("(force: bool = False)", ["--force", "--no-force"]),
    ("(force: Optional[bool] = None)", ["--force", "--no-force"]),
    ("(env: str)", []),                                          # no default: an argument
    ("(env: Annotated[str, typer.Argument()] = 'x')", []),
    ("(out: Annotated[str, typer.Option('--output', '-o')] = 'x')", ["--output", "-o"]),
    ("(out: Annotated[str, typer.Option()] = 'x')", ["--out"]),
    ("(out: str = typer.Option('x', '--output', '-o'))", ["--output", "-o"]),
    ("(on: Annotated[bool, typer.Option('--on/--off', '-y')] = True)", ["--on", "-y", "--off"]),
    ("(count=3)", ["--count"]),
])
def test_option_names_follow_typers_rules(signature: str, names: list[str]) -> None:
    assert option_names(param(signature)) == names


def test_option_names_agree_with_the_options_typer_builds() -> None:
    signatures = ["(retry_delay: float = 1.0)", "(force: bool = False)",
                  "(out: Annotated[str, typer.Option('--output', '-o')] = 'x')",
                  "(on: Annotated[bool, typer.Option('--on/--off', '-y')] = True)"]
    for signature in signatures:
        p = param(signature)
        t = typer.Typer()
        fn = _function_of(p)
        t.command()(fn)
        t.command("other")(lambda: None)
        command = typer.main.get_command(t).commands["f"]  # type: ignore[attr-defined]
        (built,) = [o for o in command.params if o.name == p.name]
        assert option_names(p) == [*built.opts, *built.secondary_opts], signature


def _function_of(p: inspect.Parameter) -> Any:
    def f(**values: Any) -> None: ...

    f.__signature__ = inspect.Signature([p.replace(annotation=cli_annotation(p))])
    return f


def test_unannotated_parameters_take_the_type_of_their_default_else_str() -> None:
    assert cli_annotation(param("(count=3)")) is int
    assert cli_annotation(param("(name=None)")) is str
    assert cli_annotation(param("(ratio: float = 1)")) is float


# -- what add_command refuses ----------------------------------------------------------------
RESERVED_PARAMS = {
    "json": "--json", "summary": "--summary", "confirm": "--confirm", "retries": "--retries",
    "retry_delay": "--retry-delay", "retry_backoff": "--retry-backoff",
    "skip_confirm": "--skip-confirm", "menu": "--menu", "never_prompt": "--never-prompt",
    "verbose": "--verbose", "log_format": "--log-format", "history": "--history",
    "version": "--version", "help": "--help", "executor": "--executor",
    "install_completion": "--install-completion", "show_completion": "--show-completion",
}


@pytest.mark.parametrize(("name", "option"), sorted(RESERVED_PARAMS.items()))
def test_a_parameter_taking_a_falyx_option_is_refused_naming_all_three(
    name: str, option: str
) -> None:
    app = Falyx("T", program="t")
    namespace: dict[str, Any] = {}
    exec(f"def deploy({name}: str = 'x'): ...", namespace)

    with pytest.raises(RegistrationError) as info:
        app.command(key="D")(namespace["deploy"])
    assert f"parameter '{name}'" in str(info.value)
    assert "command 'D'" in str(info.value)
    assert option in str(info.value)
    assert app.commands == {}


@pytest.mark.parametrize("decls", [("-y",), ("-n",), ("-v",), ("-h",), ("--quiet", "-y")])
def test_a_short_option_taken_by_falyx_is_refused(decls: tuple[str, ...]) -> None:
    deploy = param(f"(yes: Annotated[bool, typer.Option{decls!r}] = False)")

    with pytest.raises(RegistrationError, match=r"parameter 'yes' would take the option -"):
        Falyx("T", program="t").add_command("D", "Deploy", _function_of(deploy))


def test_a_reserved_name_in_a_later_step_of_a_chain_is_refused() -> None:
    def build(tag: str = "v1") -> None: ...
    def report(json: bool = False) -> None: ...

    with pytest.raises(RegistrationError, match=r"command 'R': parameter 'json' .*--json"):
        Falyx("T", program="t").add_command("R", "Release", chain(build, report))


def test_reserved_names_filled_by_stored_kwargs_or_given_other_options_are_fine() -> None:
    def report(json: bool = False,
               summary: Annotated[bool, typer.Option("--brief")] = False) -> None: ...

    app = Falyx("T", program="t")
    app.add_command("R", "Report", Action("report", report, kwargs={"json": True}))
    assert [p.name for p in app.commands["R"].parameters()] == ["summary"]


def test_falyx_prefixed_parameter_names_are_refused() -> None:
    def deploy(falyx_key: str = "") -> None: ...

    with pytest.raises(RegistrationError, match=r"'falyx_key' starts with 'falyx_'"):
        Falyx("T", program="t").add_command("D", "Deploy", deploy)


def test_an_unresolvable_annotation_is_refused_at_registration() -> None:
    class Local:
        pass

    def deploy(target: Local) -> None: ...

    with pytest.raises(RegistrationError, match=r"'Local' of parameter 'target'.*command 'D'|"
                                                r"command 'D'.*'Local'.*'target'"):
        Falyx("T", program="t").add_command("D", "Deploy", deploy)


@pytest.mark.parametrize("composite", [chain, group])
def test_steps_that_disagree_on_a_parameter_fail_at_add_command(composite) -> None:
    def build(tag: str = "latest") -> None: ...
    def deploy(tag: int = 0) -> None: ...

    app = Falyx("T", program="t")
    with pytest.raises(RegistrationError, match=r"'tag'.*step 'build'.*step 'deploy'"):
        app.add_command("R", "Release", composite(build, deploy))
    assert app.commands == {}


def test_a_command_action_that_is_neither_a_step_nor_callable_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"command 'B'.*step or a callable.*42"):
        Falyx("T", program="t").add_command("B", "Broken", 42)


def test_the_reserved_list_is_exactly_the_options_the_cli_uses() -> None:
    app = Falyx("T", program="t")
    app.add_command("B", "Build", lambda: None, name="build")
    group_command = typer.main.get_command(app.typer)
    ctx = group_command.make_context("t", [])
    build = group_command.get_command(ctx, "build")  # type: ignore[attr-defined]
    used = {name for command in (group_command, build) for p in command.get_params(ctx)
            if p.param_type_name == "option" for name in (*p.opts, *p.secondary_opts)}
    assert used == RESERVED_OPTIONS
