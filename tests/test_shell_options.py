"""Shell step params as CLI options: typed, required, unioned with Python steps (§2.6, §2.11)."""

from __future__ import annotations

import sys

from falyx import Falyx, ShellAction, chain
from falyx.testing import run_cli
from tests.conftest import not_an_int


def make_app() -> Falyx:
    app = Falyx("shell options", program="shellopts")
    app.add_command("T", "Tag", ShellAction("tag", ["echo", "tag", "{tag}"], params={"tag": ...}))
    app.add_command("S", "Scale", ShellAction(
        "scale", [sys.executable, "-c", "import sys; print(repr(sys.argv[1:]))",
                  "{deployment}", "{replicas}"],
        params={"deployment": "web", "replicas": 2}))

    def deploy(env: str = "staging") -> str:
        print(f"deploy to {env}")
        return env

    app.add_command("R", "Release", chain(
        ShellAction("build", "echo build {image}", params={"image": "app:1.0"}), deploy,
        name="release"))
    return app


def test_a_required_param_is_a_required_option_on_every_path() -> None:
    app = make_app()
    for argv in (["tag", "--tag", "v2"], ["run", "t", "--tag", "v2"]):
        result = run_cli(app, argv)
        assert result.exit_code == 0, result.stderr
        assert result.stdout == "tag v2\n"
    missing = run_cli(app, ["run", "T"])
    assert missing.exit_code == 2
    assert missing.stderr == "Error: Missing option '--tag'. Try 'shellopts run T -h' for help.\n"


def test_params_are_typed_from_their_defaults() -> None:
    app = make_app()
    ok = run_cli(app, ["scale", "--replicas", "5", "--deployment", "api; rm -rf /"])
    assert ok.exit_code == 0, ok.stderr
    assert ok.stdout == "['api; rm -rf /', '5']\n"  # one literal argv item per value
    bad = run_cli(app, ["scale", "--replicas", "many"])
    assert bad.exit_code == 2
    assert not_an_int("many") in bad.stderr
    assert len(bad.stderr.splitlines()) == 1


def test_a_chain_of_a_shell_step_and_a_function_takes_both_options() -> None:
    result = run_cli(make_app(), ["release", "--image", "app:2.5", "--env", "prod"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "build app:2.5\ndeploy to prod\n"
    help_text = run_cli(make_app(), ["release", "--help"]).stdout
    assert "--image" in help_text and "--env" in help_text


def test_a_keyword_only_parameter_without_a_default_is_a_required_option() -> None:
    app = Falyx("kw", program="kw")

    @app.command(key="D")
    def deploy(target: str, *, env: str, dry_run: bool = False) -> None:
        print(f"{target} {env} {dry_run}")

    assert run_cli(app, ["deploy", "web", "--env", "prod"]).stdout == "web prod False\n"
    assert run_cli(app, ["run", "D", "api", "--env", "qa", "--dry-run"]).stdout == "api qa True\n"
    missing = run_cli(app, ["deploy", "web"])
    assert (missing.exit_code, missing.stderr) == (
        2, "Error: Missing option '--env'. Try 'kw deploy -h' for help.\n")
