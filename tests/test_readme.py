"""Every command the README shows is run here, so the README cannot drift from the code."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import pytest

from tests.conftest import ROOT, subprocess_env

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
COMMANDS = [line.split("  #")[0].strip() for block in BLOCKS for line in block.splitlines()
            if re.match(r"^([A-Z_]+=\S+ )*python ", line.strip())]
#: Commands that fail on purpose, and how.
EXPECTED_CODES = {"FAIL_DEPLOY=1 python examples/decorators.py run R -y": 1,
                  "FAIL_DEPLOY=1 python examples/runbook.py run R -y": 1}


def test_readme_shows_commands_to_run() -> None:
    assert len(COMMANDS) >= 12, COMMANDS
    assert any("examples/decorators.py" in c for c in COMMANDS)


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_runs(command: str) -> None:
    words = shlex.split(command)
    env_words = [w for w in words if re.match(r"^[A-Z_]+=", w)]
    argv = [sys.executable if w == "python" else w for w in words[len(env_words):]]
    env = subprocess_env(FALYX_DEMO_SEED="2", **dict(w.split("=", 1) for w in env_words))
    env["XDG_STATE_HOME"] = os.environ["XDG_STATE_HOME"]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == EXPECTED_CODES.get(command, 0), done.stderr
    assert "Traceback" not in done.stderr


def test_make_demo_runs_the_quick_example() -> None:
    """`make demo` (dry run for its command), then that command: retries and a summary."""
    dry = subprocess.run(["make", "-n", "-s", "demo", f"VENV={sys.prefix}"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    line = next(x for x in dry.splitlines() if "examples/simple.py" in x)
    assert "run R -y" in line
    done = subprocess.run(["bash", "-c", line.replace("--summary", "--summary --retry-delay 0")],
                          cwd=ROOT, env=subprocess_env(), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ok", "ok"]
    assert "Retry attempt 1/3 failed due to 'Random failure!'." in done.stderr
    assert "Execution Summary" in done.stderr


def test_makefile_test_target_runs_lint_contracts_and_pytest() -> None:
    dry = subprocess.run(["make", "-n", "test", f"VENV={sys.prefix}"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    for tool in ("ruff check", "lint-imports", "pytest"):
        assert tool in dry


TEXT_BLOCKS = re.findall(r"```text\n(.*?)```", README, flags=re.S)


def shown_output(command: str) -> list[str]:
    """The lines the README shows under `$ COMMAND` in a text block."""
    for block in TEXT_BLOCKS:
        lines = block.splitlines()
        if f"$ {command}" in lines:
            start = lines.index(f"$ {command}") + 1
            end = next((i for i in range(start, len(lines)) if lines[i].startswith("$ ")),
                       len(lines))
            return lines[start:end]
    raise AssertionError(f"the README shows no output of {command!r}")


@pytest.mark.slow
@pytest.mark.parametrize(("command", "stream"), [
    ("python examples/runbook.py preview O", "stderr"),
    ("python examples/runbook.py help", "stderr"),
    ("python examples/runbook.py release -y", "stdout"),
])
def test_readme_shows_the_runbooks_output_as_it_is(command: str, stream: str) -> None:
    argv = [sys.executable, *shlex.split(command)[1:]]
    done = subprocess.run(argv, cwd=ROOT, env=subprocess_env(), capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    printed = [line.rstrip() for line in getattr(done, stream).splitlines()]
    shown = shown_output(command)

    assert done.returncode == 0, done.stderr
    if stream == "stdout":  # the group of checks prints concurrently
        assert sorted(printed) == sorted(shown)
    else:
        assert printed == shown
