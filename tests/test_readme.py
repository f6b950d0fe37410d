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
EXPECTED_CODES = {"FAIL_DEPLOY=1 python examples/decorators.py run R -y": 1}


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
