"""A history path in a folder that does not exist (DESIGN §2.8): falyx creates only its own
state folder; anywhere else the run goes on, with one warning and no folder created."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from falyx import Falyx
from falyx.action import Action
from falyx.prompts import menu_prompt
from falyx.runner import attach_history
from falyx.state_paths import MissingFolder, make_private_folder, state_dir
from falyx.testing import run_cli
from tests.conftest import ROOT, subprocess_env

APP = ROOT / "tests" / "apps" / "stdout_app.py"


def make_app() -> Falyx:
    app = Falyx("folders", program="folders")
    app.add_command("R", "Release", Action("release", lambda: "done"))
    return app


@pytest.mark.parametrize("missing", ["nope/x.db", "a/b/c/x.db", "x/.db"])
def test_history_option_in_a_missing_folder_runs_with_one_warning(tmp_path: Path,
                                                                   missing: str) -> None:
    path = tmp_path / "work" / missing
    (tmp_path / "work").mkdir()

    ran = run_cli(make_app(), ["--history", str(path), "run", "R", "-y", "--json"])

    assert ran.exit_code == 0 and '"status": "OK"' in ran.stdout
    (line,) = ran.stderr.splitlines()
    assert f"history could not be written to {path}" in line
    assert f"folder {path.parent} does not exist" in line and "memory only" in line
    assert list((tmp_path / "work").iterdir()) == []  # no folder, no file


def test_falyx_history_in_a_missing_folder_creates_nothing_in_a_real_process(tmp_path: Path
                                                                             ) -> None:
    path = tmp_path / "typo" / "dir" / "x.db"

    done = subprocess.run([sys.executable, str(APP), "run", "E", "-y"], capture_output=True,
                          text=True, timeout=60, env=subprocess_env(FALYX_HISTORY=str(path)))

    assert (done.returncode, done.stdout) == (0, "done\n")
    assert done.stderr.count("\n") == 1 and "WARNING" in done.stderr
    assert "does not exist" in done.stderr and not (tmp_path / "typo").exists()


def test_the_state_folder_is_created_private_with_its_parents(tmp_path: Path,
                                                              monkeypatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "deep" / "state"))
    monkeypatch.delenv("FALYX_HISTORY")
    app = make_app()

    ran = run_cli(app, ["run", "R", "-y"])

    db = tmp_path / "deep" / "state" / "falyx" / "folders.db"
    assert ran.exit_code == 0 and ran.stderr == ""
    assert stat.S_IMODE(os.stat(db.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    assert run_cli(app, ["history", "--json"]).stdout.count('"name": "release"') == 1


def test_an_existing_folder_gets_the_history_file(tmp_path: Path) -> None:
    path = tmp_path / "mine" / "h.db"
    path.parent.mkdir(mode=0o755)

    ran = run_cli(make_app(), ["--history", str(path), "run", "R", "-y"])

    assert ran.exit_code == 0 and ran.stderr == ""
    assert path.is_file() and stat.S_IMODE(os.stat(path.parent).st_mode) == 0o755


def test_make_private_folder_creates_only_inside_the_state_folder(tmp_path: Path) -> None:
    inside = state_dir() / "a" / "b"
    make_private_folder(inside)
    assert inside.is_dir() and stat.S_IMODE(os.stat(inside).st_mode) == 0o700
    with pytest.raises(MissingFolder, match="does not exist"):
        make_private_folder(tmp_path / "elsewhere" / "b")
    assert not (tmp_path / "elsewhere").exists()


def test_prompt_history_in_a_missing_folder_is_kept_in_memory(tmp_path: Path, caplog,
                                                              monkeypatch) -> None:
    from prompt_toolkit.history import InMemoryHistory
    from prompt_toolkit.output import DummyOutput

    monkeypatch.setattr(logging.getLogger("falyx"), "propagate", True)
    caplog.set_level(logging.WARNING, logger="falyx")
    app = make_app()
    attach_history(app, str(tmp_path / "gone" / "h.db"))

    assert isinstance(menu_prompt(app, output=DummyOutput()).history, InMemoryHistory)
    assert any("prompt history not kept" in r.getMessage() for r in caplog.records)
    assert not (tmp_path / "gone").exists()
