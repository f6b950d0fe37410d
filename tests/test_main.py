"""`python -m falyx FILE [ARGS]`: load the one app a file defines and run its CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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


# -- a file that starts its app when imported ------------------------------------------------
NO_GUARD = {
    "app()": ("from falyx import Falyx\n"
              "app = Falyx('noguard')\n"
              "app.add_command('S', 'Square', lambda n=4: print(n * n), name='square')\n"
              "app()\n", 4, "app()"),
    "asyncio.run": ("import asyncio\n"
                    "from falyx import Falyx\n"
                    "app = Falyx('noguard')\n"
                    "app.add_command('S', 'Square', lambda: print(16), name='square')\n\n"
                    "asyncio.run(app.run())\n", 6, "asyncio.run(app.run())"),
    "main()": ("from falyx import Falyx\n"
               "app = Falyx('noguard')\n"
               "app.add_command('S', 'Square', lambda: print(16), name='square')\n"
               "def main():\n"
               "    app()\n"
               "main()\n", 6, "main()"),
}


@pytest.mark.parametrize("variant", list(NO_GUARD))
@pytest.mark.parametrize("argv", [["help"], ["run", "S"], []])
def test_a_file_that_starts_its_app_when_imported_is_one_line_naming_the_line(
    tmp_path: Path, variant: str, argv: list[str]
) -> None:
    source, line, call = NO_GUARD[variant]
    (tmp_path / "noguard.py").write_text(source)

    done = falyx("noguard.py", *argv, cwd=tmp_path)

    assert done.returncode == 2
    assert done.stderr == (f"Error: noguard.py:{line} calls {call} when imported; put it under "
                           'if __name__ == "__main__":\n')
    assert done.stdout == ""


def test_the_same_file_under_a_main_guard_runs(tmp_path: Path) -> None:
    source, _, _ = NO_GUARD["app()"]
    (tmp_path / "guarded.py").write_text(
        source.replace("app()\n", 'if __name__ == "__main__":\n    app()\n'))

    done = falyx("guarded.py", "run", "S", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stdout == "16\n"


def test_a_refused_file_is_not_left_half_imported(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from falyx.__main__ import load_app

    source, _, _ = NO_GUARD["app()"]
    (tmp_path / "noguard_inproc.py").write_text(source)
    monkeypatch.setattr(sys, "path", list(sys.path))

    with pytest.raises(SystemExit) as exit_info:
        load_app(str(tmp_path / "noguard_inproc.py"))

    assert exit_info.value.code == 2
    assert "noguard_inproc" not in sys.modules
