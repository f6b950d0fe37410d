"""Where history goes: only into regular files, and the prompt history beside the database."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from falyx import Falyx
from falyx.action import Action, ChainedAction
from falyx.action.options import RunOptions, using_options
from falyx.history import ExecutionRegistry
from falyx.menu import run_menu
from falyx.prompts import menu_prompt, prompt_history_path
from falyx.runner import Session, attach_history
from falyx.store import SQLiteHistoryStore, path_problem
from falyx.testing import run_cli
from tests.conftest import ROOT, subprocess_env


@pytest.fixture
def warnings_(caplog: pytest.LogCaptureFixture, monkeypatch) -> Callable[[], list[str]]:
    logger = logging.getLogger("falyx")
    monkeypatch.setattr(logger, "propagate", True)
    monkeypatch.setattr(logger, "disabled", False)
    caplog.set_level(logging.WARNING, logger="falyx")
    return lambda: [r.getMessage() for r in caplog.records
                    if r.name == "falyx" and r.levelno >= logging.WARNING]


def _fifo(folder: Path) -> Path:
    path = folder / "history.fifo"
    os.mkfifo(path)
    return path


def _dev_null_link(folder: Path) -> Path:
    path = folder / "null-link.db"
    path.symlink_to(os.devnull)
    return path


def _directory(folder: Path) -> Path:
    path = folder / "a-folder.db"
    path.mkdir()
    return path


NOT_REGULAR = {
    "device": (lambda folder: Path(os.devnull), "a character device"),
    "link to a device": (_dev_null_link, "a character device"),
    "fifo": (_fifo, "a FIFO"),
    "directory": (_directory, "a directory"),
}
DEVICE_SIBLINGS = [Path(f"{os.devnull}{suffix}") for suffix in ("-journal", "-wal", "-shm")]


@pytest.fixture(params=list(NOT_REGULAR))
def odd_path(request, tmp_path: Path) -> Iterator[tuple[Path, str, Path]]:
    """(a history path that is not a regular file, what it is, the folder to watch)."""
    make, what = NOT_REGULAR[request.param]
    folder = tmp_path / "watched"
    folder.mkdir()
    path = make(folder)
    before = [p for p in DEVICE_SIBLINGS if p.exists()]
    yield path, what, folder
    assert [p for p in DEVICE_SIBLINGS if p.exists()] == before  # nothing created in /dev


async def _run_twice(store: SQLiteHistoryStore) -> None:
    registry = ExecutionRegistry(store=store)
    with using_options(RunOptions(registry=registry, command="R")):
        for _ in range(2):
            chain = ChainedAction("pipeline", [Action("one", lambda: 1)])
            assert await chain() == 1
    assert len(registry) == 4  # kept in memory


async def test_a_path_that_is_not_a_regular_file_keeps_history_in_memory_with_one_warning(
    odd_path, warnings_
) -> None:
    path, what, folder = odd_path
    listing = sorted(folder.iterdir())
    store = SQLiteHistoryStore(path, "app")
    await _run_twice(store)
    assert store.query() == [] and store.count() == 0 and store.run_ids("a") == []
    (warning,) = warnings_()
    assert f"{path} is {what}, not a regular file" in warning and "memory only" in warning
    assert not store.enabled and sorted(folder.iterdir()) == listing  # nothing created beside


def test_reading_a_path_that_is_not_a_regular_file_warns_once_and_creates_nothing(
    odd_path, warnings_
) -> None:
    path, _, folder = odd_path
    listing = sorted(folder.iterdir())
    store = SQLiteHistoryStore(path, "app")
    assert store.query() == [] and store.last() is None and store.get(1) is None
    assert len(warnings_()) == 1 and sorted(folder.iterdir()) == listing


def test_path_problem_names_what_the_path_is(tmp_path: Path) -> None:
    regular = tmp_path / "h.db"
    assert path_problem(regular) is None  # missing: it will be created as a regular file
    regular.write_text("")
    assert path_problem(regular) is None
    assert path_problem(tmp_path) == f"{tmp_path} is a directory, not a regular file"
    assert path_problem(os.devnull) == f"{os.devnull} is a character device, not a regular file"


def make_app() -> Falyx:
    app = Falyx("paths", program="pathapp")
    app.add_command("R", "Release", ChainedAction("release", [Action("build", lambda: "b")]))
    return app


def test_history_dev_null_on_the_command_line_runs_with_one_warning_line() -> None:
    app = make_app()
    before = [p for p in DEVICE_SIBLINGS if p.exists()]
    ran = run_cli(app, ["--history", os.devnull, "run", "R", "-y", "--json"])
    assert ran.exit_code == 0 and '"status": "OK"' in ran.stdout
    (line,) = ran.stderr.splitlines()
    assert "is a character device, not a regular file" in line and "memory only" in line
    shown = run_cli(app, ["--history", os.devnull, "history", "--json"])
    assert shown.exit_code == 0 and shown.stderr == ""  # warned once per process, not again
    assert '"name": "release"' in shown.stdout  # from memory
    assert [p for p in DEVICE_SIBLINGS if p.exists()] == before


# -- the prompt history -------------------------------------------------------------------
async def _type(app: Falyx, keys: str) -> int:
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        return await asyncio.wait_for(
            run_menu(app, Session(), input=pipe, output=DummyOutput()), timeout=10)


async def test_prompt_history_lives_beside_the_history_file(tmp_path: Path) -> None:
    app = make_app()
    (tmp_path / "hist").mkdir()  # falyx creates no folder outside its state dir
    attach_history(app, str(tmp_path / "hist" / "ops.db"))
    expected = tmp_path / "hist" / "pathapp.prompt_history"
    assert prompt_history_path(app) == expected
    assert await _type(app, "?r\rx\r") == 0
    assert "+?r\n" in expected.read_text() and os.stat(expected).st_mode & 0o077 == 0
    assert isinstance(menu_prompt(app, output=DummyOutput()).history, FileHistory)


def test_prompt_history_follows_falyx_history_and_defaults_to_the_state_dir(
    tmp_path: Path, monkeypatch
) -> None:
    app = make_app()
    monkeypatch.setenv("FALYX_HISTORY", str(tmp_path / "env" / "all.db"))
    attach_history(app, None)
    assert prompt_history_path(app) == tmp_path / "env" / "pathapp.prompt_history"
    monkeypatch.delenv("FALYX_HISTORY")
    attach_history(app, None)
    assert prompt_history_path(app) == tmp_path / "state" / "falyx" / "pathapp.prompt_history"


@pytest.mark.parametrize("history", ["off", os.devnull])
async def test_prompt_history_is_not_written_when_history_is_off_or_not_a_file(
    history: str, tmp_path: Path
) -> None:
    app = make_app()
    attach_history(app, history)
    assert prompt_history_path(app) is None
    assert isinstance(menu_prompt(app, output=DummyOutput()).history, InMemoryHistory)
    assert await _type(app, "?r\rx\r") == 0
    assert list(tmp_path.rglob("*prompt_history")) == []


def test_prompt_history_is_memory_only_when_its_folder_is_unusable(tmp_path: Path,
                                                                     warnings_) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    app = make_app()
    attach_history(app, str(blocker / "h.db"))
    assert isinstance(menu_prompt(app, output=DummyOutput()).history, InMemoryHistory)
    assert any("prompt history not kept" in w for w in warnings_())


def test_prompt_history_that_is_a_fifo_is_never_opened(tmp_path: Path, warnings_) -> None:
    os.mkfifo(tmp_path / "pathapp.prompt_history")  # opening it to write would block
    app = make_app()
    attach_history(app, str(tmp_path / "h.db"))
    assert isinstance(menu_prompt(app, output=DummyOutput()).history, InMemoryHistory)
    assert any("a FIFO, not a regular file" in w for w in warnings_())


CPR_REQUEST = re.compile(re.escape("\x1b[6n"))
PROMPT = re.compile(r"(?:^|\n)(?:\x1b\[[0-9;?]*[A-Za-z]|\r)*>")


def _expect(child: pexpect.spawn, pattern: re.Pattern[str]) -> None:
    """Wait for `pattern`, answering cursor-position requests as a terminal does."""
    while child.expect([CPR_REQUEST, pattern]) == 0:
        child.send("\x1b[1;1R")


@pytest.mark.slow
@pytest.mark.parametrize("history", ["file", "off"])
def test_menu_in_a_terminal_keeps_prompt_history_beside_the_database(
    tmp_path: Path, history: str
) -> None:
    db = tmp_path / "hist" / "simple.db"
    db.parent.mkdir()  # falyx creates no folder outside its state dir
    env = subprocess_env(FALYX_HISTORY=str(db) if history == "file" else "off",
                         XDG_STATE_HOME=str(tmp_path / "state"), TERM="xterm")
    env.pop("NO_COLOR", None)
    child = pexpect.spawn(sys.executable, [str(ROOT / "examples" / "simple.py"), "--menu"],
                          env=env, cwd=str(tmp_path), dimensions=(40, 120), encoding="utf-8",
                          timeout=20)
    try:
        _expect(child, PROMPT)
        child.send("?r\r")
        _expect(child, re.compile("ChainedAction 'my_pipeline'"))
        _expect(child, PROMPT)
        child.sendcontrol("d")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    found = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*prompt_history"))
    if history == "file":
        assert found == [Path("hist/simple.prompt_history")]
        assert "+?r\n" in (tmp_path / found[0]).read_text()
    else:
        assert found == []
