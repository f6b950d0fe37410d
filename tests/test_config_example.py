"""examples/config (the release runbook as config) and the README's `falyx` lines run as shown."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, subprocess_env

pytestmark = pytest.mark.slow

EXAMPLE = ROOT / "examples" / "config"


def falyx(*args: str, cwd: Path = EXAMPLE, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "falyx", *args], cwd=cwd, capture_output=True,
                          text=True, env=subprocess_env(**env), timeout=120,
                          stdin=subprocess.DEVNULL)


def test_the_release_runs_every_step_in_order() -> None:
    done = falyx("run", "R", "-y", "--tag", "2.0.0", "--env", "prod")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == ["2.0.0", "built app-2.0.0.tar.gz"]
    assert sorted(lines[2:4]) == ["lint ok", "tests passed"]  # the checks run concurrently
    assert lines[4:] == ["deployed to prod"]


def test_a_failed_deploy_rolls_the_build_back_and_exits_1() -> None:
    done = falyx("run", "R", "-y", "--json", FAIL_DEPLOY="1")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[:2] == ["1.4.0", "built app-1.4.0.tar.gz"]
    assert lines[-2] == "removed app-1.4.0.tar.gz"  # the rollback shell step, same arguments
    outcome = json.loads(lines[-1])
    assert outcome["status"] == "ERROR" and "deploy refused" in outcome["error"]


@pytest.mark.parametrize(("args", "stdout"), [
    (("deploy", "--env", "qa", "--pause", "0"), ["deployed to qa"]),
    (("ops", "status"), ["web: running", "db: running"]),
    (("ops", "run", "R", "-y", "--service", "db", "--pause", "0"), ["stopping db", "started db"]),
    (("run", "O.L", "--keep", "5"), ["rotated the logs, kept 5"]),
])
def test_each_command_runs_on_its_own(args: tuple[str, ...], stdout: list[str]) -> None:
    done = falyx(*args)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == stdout


def test_the_checks_group_runs_its_members_concurrently() -> None:
    done = falyx("checks")
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.splitlines()) == ["lint ok", "tests passed"]


def test_a_confirmation_without_a_terminal_asks_for_y() -> None:
    done = falyx("ops", "run", "R")
    assert done.returncode == 2 and "-y" in done.stderr and done.stdout == ""


def test_the_example_checks_and_ships_the_current_schema() -> None:
    check = falyx("check")
    assert (check.returncode, check.stdout) == (0, "OK: 3 commands, 1 submenu (3 commands)\n")
    schema = falyx("schema")
    assert (EXAMPLE / "falyx.schema.json").read_text() == schema.stdout


def _readme_falyx_lines() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Config files", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()
            if line.startswith("falyx ")]


def test_the_readmes_falyx_lines_run_as_shown(tmp_path: Path) -> None:
    lines = _readme_falyx_lines()
    assert len(lines) >= 8 and any(line.startswith("falyx init") for line in lines)
    shutil.copytree(EXAMPLE, tmp_path / "examples" / "config")
    python = sys.executable
    for line in lines:  # in order, in one folder: `init` makes what the next lines use
        script = f'falyx() {{ "{python}" -m falyx "$@"; }}\n{line}'
        done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True,
                              text=True, env=subprocess_env(PATH=os.environ["PATH"]),
                              timeout=120, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, (line, done.stderr)
        assert "Traceback" not in done.stderr
    schema = json.loads((tmp_path / "falyx.schema.json").read_text())
    assert schema["$schema"].endswith("2020-12/schema")
