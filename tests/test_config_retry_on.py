"""`retry_on` in a config: builtin names, falyx's own exceptions by bare name, and refs.

DESIGN §2.3, §2.13: each form names an exception class; anything else is one problem line
listing the forms, with a "did you mean" among the bare names.
"""

from __future__ import annotations

import builtins
import subprocess
import sys
from pathlib import Path

import pytest

import falyx
from falyx import errors
from falyx.config import ConfigFileError, load
from falyx.config.refs import EXCEPTION_FORMS, RefError, falyx_exceptions, resolve_exception
from tests.conftest import subprocess_env

#: Every exception class `falyx` exports, found from its `__all__` (not a copied list).
EXPORTED = sorted(n for n in falyx.__all__ if isinstance(getattr(falyx, n), type)
                  and issubclass(getattr(falyx, n), BaseException))


def test_the_falyx_names_include_the_errors_the_readme_names() -> None:
    assert {"ShellCommandError", "StepTimeoutError", "ActionGroupError", "RemoteError",
            "NotPicklableError", "FalyxError"} <= set(EXPORTED)
    assert set(falyx_exceptions()) == set(EXPORTED)


@pytest.mark.parametrize("name", EXPORTED)
def test_each_exported_falyx_exception_resolves_by_its_bare_name(name: str) -> None:
    assert resolve_exception(name) is getattr(falyx, name)


@pytest.mark.parametrize(("name", "expected"), [
    ("ConnectionError", ConnectionError),
    ("TimeoutError", TimeoutError),
    ("OSError", OSError),
    ("KeyError", KeyError),
    ("Exception", Exception),
    ("falyx.errors:ShellCommandError", errors.ShellCommandError),
    ("falyx.errors.StepTimeoutError", errors.StepTimeoutError),
    ("falyx:RemoteError", errors.RemoteError),
    ("subprocess:CalledProcessError", __import__("subprocess").CalledProcessError),
])
def test_builtins_and_refs_still_resolve(name: str, expected: type) -> None:
    assert resolve_exception(name) is expected


@pytest.mark.parametrize(("name", "suggestion"), [
    ("ShellComandError", "ShellCommandError"),
    ("StepTimeOutError", "StepTimeoutError"),
    ("Conectionerror", "ConnectionError"),
    ("Falyx", None),                   # exported, but the app class: not an exception
    ("HookManager", None),             # exported, not an exception, nothing close
    ("print", None),                   # a builtin that is no exception
    ("NoSuchError", None),
    ("falyx.errors:ShellCommandEror", None),  # a ref gets the ref's own message
    ("falyx:Falyx", None),
])
def test_anything_else_is_refused_listing_the_forms(name: str, suggestion: str | None) -> None:
    with pytest.raises(RefError) as caught:
        resolve_exception(name)
    message = str(caught.value)
    if name == "falyx.errors:ShellCommandEror":
        assert message == ("ref 'falyx.errors:ShellCommandEror': falyx.errors "
                           f"({errors.__file__}) has no attribute 'ShellCommandEror'; did you "
                           "mean 'ShellCommandError'?")
        return
    hint = f"; did you mean '{suggestion}'?" if suggestion else ""
    assert message == f"'{name}' is not an exception class{hint} ({EXCEPTION_FORMS})"
    assert "a falyx error such as ShellCommandError" in EXCEPTION_FORMS


def test_no_builtin_name_is_shadowed_by_a_falyx_name() -> None:
    assert not set(EXPORTED) & set(vars(builtins))


@pytest.mark.slow
def test_finding_the_falyx_names_loads_no_lazy_step_module() -> None:
    code = ("import sys; from falyx.config.refs import resolve_exception as r\n"
            "before = set(sys.modules)\n"
            "r('ShellCommandError'); r('ConnectionError')\n"
            "try: r('ShellComandError')\nexcept Exception: pass\n"
            "print(sorted(set(sys.modules) - before))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=subprocess_env(), timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "[]\n", "")


# -- in a config file: the policy holds the class, and a run retries by it -----------------------
def _config(folder: Path, retry_on: str) -> Path:
    config = folder / "falyx.yaml"
    config.write_text(
        "commands:\n  - key: F\n    description: Flaky\n"
        "    shell: 'echo attempt >> attempts.txt; exit 3'\n"
        f"    retry: {{max_retries: 2, delay: 0, retry_on: {retry_on}}}\n")
    return config


@pytest.mark.parametrize(("retry_on", "classes"), [
    ("[ShellCommandError]", (errors.ShellCommandError,)),
    ("[StepTimeoutError, ConnectionError]", (errors.StepTimeoutError, ConnectionError)),
    ("['falyx.errors:ShellCommandError']", (errors.ShellCommandError,)),
    ("[FalyxError]", (errors.FalyxError,)),
])
def test_a_config_policy_holds_the_named_classes(retry_on: str, classes: tuple,
                                                 tmp_path: Path) -> None:
    app = load(_config(tmp_path, retry_on))
    assert app.get("F").action.retry_policy.retry_on == classes


@pytest.mark.slow
@pytest.mark.parametrize(("retry_on", "attempts"), [
    ("[ShellCommandError]", 3),      # what a failing shell step raises: retried
    ("[FalyxError]", 3),             # its base class: retried
    ("[StepTimeoutError]", 1),       # another falyx error: not retried
])
async def test_a_failing_shell_step_is_retried_only_for_the_named_class(
        retry_on: str, attempts: int, tmp_path: Path, registry) -> None:
    app = load(_config(tmp_path, retry_on))
    with pytest.raises(errors.ShellCommandError):
        await app.run_key("F")
    assert (tmp_path / "attempts.txt").read_text().splitlines() == ["attempt"] * attempts


def test_a_misspelt_falyx_name_is_one_problem_with_its_place(tmp_path: Path) -> None:
    config = _config(tmp_path, "[ShellCommandError, ShellComandError]")
    with pytest.raises(ConfigFileError) as caught:
        load(config)
    assert [str(p) for p in caught.value.problems] == [
        f"{config}:5:69: commands[0].retry.retry_on[1]: 'ShellComandError' is not an "
        f"exception class; did you mean 'ShellCommandError'? ({EXCEPTION_FORMS})"]
