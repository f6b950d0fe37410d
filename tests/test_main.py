"""`python -m falyx FILE [ARGS]`: load the one app a file defines and run its CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, subprocess_env


def falyx(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "falyx", *args], cwd=cwd, capture_output=True,
                          text=True, env=subprocess_env(FALYX_HISTORY="off"), timeout=60)


def test_runs_the_app_defined_in_a_file() -> None:
    done = falyx("examples/decorators.py", "build", "--target", "qa")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "built qa"


def test_missing_file_is_a_one_line_usage_error() -> None:
    done = falyx("nope.py")
    assert done.returncode == 2
    assert done.stderr.strip() == "Error: no such file: nope.py"


def test_a_file_without_exactly_one_app_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_text("x = 1\n")
    done = falyx(str(tmp_path / "empty.py"))
    assert done.returncode == 2
    assert "defines 0 Falyx apps" in done.stderr


def test_version_and_usage(tmp_path: Path) -> None:
    assert falyx("--version", cwd=tmp_path).stdout.startswith("falyx ")
    usage = falyx("--help", cwd=tmp_path)  # no config here: the script's own usage
    assert usage.returncode == 0 and usage.stdout.startswith("usage: falyx ")
