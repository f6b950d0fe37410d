"""README "Installing in your own project": its example project installs and its script runs.

The project's files are the README's code blocks that start with `# PATH`; it is installed
as the README says (`pip install -e .`, with setuptools, into a fresh venv) and the
commands the README suggests are run through the installed script. falyx itself and its
dependencies come from this checkout and its venv, as if installed first (`--no-deps`).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import ROOT, subprocess_env

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised by the 3.10 run of `make test-all`
    import tomli as tomllib

pytestmark = pytest.mark.slow

README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## Installing in your own project", 1)[1].split("\n## ", 1)[0]
#: The project's files: fenced blocks whose first line names the file, `# pyproject.toml`.
FILES = dict(re.findall(r"```(?:toml|python)\n# (\S+)\n(.*?)```", SECTION, flags=re.S))
#: What the README suggests running in the project's folder, in backticks.
COMMANDS = re.findall(r"`((?:pip|acme) [^`]+)`", SECTION)
TIMEOUT = 300


def _write_project(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _install(project: Path, venv: Path) -> Path:
    """`pip install -e PROJECT` into a new venv; returns that venv's bin folder."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=TIMEOUT)
    python = venv / "bin" / "python"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         "-e", str(project)], capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    return venv / "bin"


def _run(bin_dir: Path, command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A command in the venv, with falyx and its dependencies from this checkout."""
    paths = dict.fromkeys([str(ROOT), sysconfig.get_paths()["purelib"],
                           sysconfig.get_paths()["platlib"]])
    env = subprocess_env(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return subprocess.run(shlex.split(command), cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)


def test_the_readme_shows_a_whole_project_and_what_to_run() -> None:
    assert {"pyproject.toml", "acme_ops/__init__.py", "acme_ops/cli.py"} <= set(FILES)
    scripts = tomllib.loads(FILES["pyproject.toml"])["project"]["scripts"]
    assert scripts == {"acme": "acme_ops.cli:main"}
    assert "pip install -e ." in COMMANDS and "acme run R -y --tag 2.0" in COMMANDS


def test_the_readme_project_installs_and_its_script_runs(tmp_path: Path) -> None:
    project = tmp_path / "acme-ops"
    _write_project(project, FILES)
    bin_dir = _install(project, tmp_path / "venv")
    # every command but the install (done above) and --install-completion (it edits the
    # user's shell start-up files)
    for command in COMMANDS:
        if command.startswith("pip") or "--install-completion" in command:
            continue
        done = _run(bin_dir, command, project)
        assert done.returncode == 0, (command, done.stderr)
        assert "Traceback" not in done.stderr
    usage = _run(bin_dir, "acme --help", tmp_path)  # from anywhere, not only the project
    assert usage.returncode == 0 and "Usage: acme" in usage.stdout
    released = _run(bin_dir, "acme run R -y --tag 2.0", tmp_path)
    assert released.stdout == "released 2.0\n"


def test_a_package_named_tools_installs_with_the_line_the_readme_gives(tmp_path: Path) -> None:
    """The README's warning and its remedy: a `tools` package needs `packages = [...]`."""
    (fix,) = re.findall(r"```toml\n(\[tool\.setuptools\]\n.*?)```", SECTION, flags=re.S)
    renamed = {name.replace("acme_ops", "tools"): text.replace("acme_ops", "tools")
               for name, text in FILES.items()}
    project = tmp_path / "tools-project"
    _write_project(project, renamed)
    without = _run(_install(project, tmp_path / "plain"), "acme --help", tmp_path)
    assert "ModuleNotFoundError: No module named 'tools'" in without.stderr
    renamed["pyproject.toml"] += "\n" + fix
    _write_project(project, renamed)
    fixed = _run(_install(project, tmp_path / "fixed"), "acme --help", tmp_path)
    assert fixed.returncode == 0, fixed.stderr
