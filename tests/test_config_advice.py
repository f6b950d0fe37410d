"""Config problems give config advice: the engine's Python advice, rewritten (DESIGN §2.13).

The engine's messages are provoked here through its Python API, as they really are, so a
change of the engine's wording that the config layer no longer rewrites fails a test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from falyx import Action, Falyx, chain
from falyx.action import ShellAction
from falyx.config import ConfigFileError, load
from falyx.config.advice import config_advice
from falyx.errors import FalyxError
from tests.test_config_errors import CASES

#: Python spelling a config user cannot write: a keyword argument, `=True`, typer annotations.
PYTHON_ADVICE = re.compile(
    r"\b(shell|name|params|inject_into|auto_inject|inject_last_result|argv|cwd|env)=|=True\b"
    r"|Annotated\[|typer\.")


def _message(make: Callable[[], Any]) -> str:
    with pytest.raises((FalyxError, TypeError, ValueError)) as caught:
        make()
    return str(caught.value)


def _with_version_option() -> None:
    Falyx("t").add_command("V", "v", ShellAction("show", ["echo", "{version}"]))


# (what provokes the engine's message, the placeholders of the step, what the advice says)
ENGINE: dict[str, tuple[Callable[[], Any], tuple[str, ...], str]] = {
    "sh -c with a placeholder": (
        lambda: ShellAction("keep", ["sh", "-c", "echo keeping {keep}"]), (),
        "write the script as a 'shell:' body instead, which quotes every value"),
    "bash -lc behind sudo": (
        lambda: ShellAction("k", ["sudo", "bash", "-lc", "rm {path}"]), (),
        "write the script as a 'shell:' body instead"),
    "a list with shell=True": (
        lambda: ShellAction("k", ["echo", "hi"], shell=True), (),
        "'shell:' runs one string through /bin/sh -c, got list ['echo', 'hi']; write an argv "
        "list as a 'run:' body"),
    "injection without the parameter": (
        lambda: chain(lambda: 1, Action("d", lambda: 2, inject_last_result=True)), (),
        "set 'inject_into' to a parameter it has"),
    "a name taken": (
        lambda: _taken_name(), (), "set 'name' to choose another"),
    "a placeholder named like a falyx option": (
        _with_version_option, ("version",),
        "placeholder {version} would take the option --version, which falyx keeps for "
        "itself; rename the placeholder (and its 'params' entry)"),
}


def _taken_name() -> None:
    app = Falyx("t")
    app.add_command("A", "a", lambda: 1, name="same")
    app.add_command("B", "b", lambda: 2, name="same")


@pytest.mark.parametrize("case", sorted(ENGINE))
def test_the_engines_python_advice_becomes_config_advice(case: str) -> None:
    make, placeholders, advice = ENGINE[case]
    engine = _message(make)
    assert PYTHON_ADVICE.search(engine), engine  # the engine speaks Python, as it should
    config = config_advice(engine, placeholders)
    assert advice in config
    assert not PYTHON_ADVICE.search(config), config


def test_a_python_functions_own_parameter_keeps_the_python_advice() -> None:
    """An `action:` ref's parameter is renamed in Python: the typer.Option advice stays."""

    def show(version: str = "1") -> str:
        return version

    def make() -> None:
        Falyx("t").add_command("V", "v", show)

    engine = _message(make)
    assert config_advice(engine, placeholders=()) == engine
    assert "typer.Option('--other')" in engine


def test_no_message_of_the_bad_config_table_gives_python_advice() -> None:
    lines = [line for lines in CASES.values() for line in lines]
    assert [line for line in lines if PYTHON_ADVICE.search(line)] == []


@pytest.mark.parametrize(("run", "step", "shell"), [
    ('["sh", "-c", "echo keeping {keep}"]', "keep", "sh"),
    ('["/bin/bash", "-c", "tar czf {out} ."]', "pack", "/bin/bash"),
    ('["docker", "exec", "app", "sh", "-c", "cat {file}"]', "show", "sh"),
    ('"sudo sh -c \'rm -rf {path}\'"', "clean", "sh"),
])
def test_a_run_body_with_an_inline_script_is_told_to_use_a_shell_body(
        run: str, step: str, shell: str, tmp_path: Path) -> None:
    config = tmp_path / "falyx.yaml"
    config.write_text(f"commands:\n  - key: K\n    description: {step}\n    run: {run}\n")
    with pytest.raises(ConfigFileError) as caught:
        load(config)
    assert [str(p) for p in caught.value.problems] == [
        f"{config}:4:5: commands[0].run: step '{step}': a placeholder in the script of "
        f"'{shell} -c' would be read as shell code; write the script as a 'shell:' body "
        "instead, which quotes every value"]


def test_the_same_script_as_a_shell_body_loads_and_quotes_the_value(tmp_path: Path) -> None:
    config = tmp_path / "falyx.yaml"
    config.write_text("commands:\n  - key: K\n    description: keep\n"
                      "    shell: echo keeping {keep}\n    params: {keep: \"3; id\"}\n")
    step = load(config).get("K").action
    argv, _ = step.template.fill(step.name, {"keep": "3; id"})
    assert argv[-1] == "echo keeping '3; id'"
