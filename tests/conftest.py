"""Shared fixtures: isolated history, an instant retry sleep, and a fresh registry per test."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from falyx.action.options import RunOptions, using_options
from falyx.history import ExecutionRegistry

ROOT = Path(__file__).resolve().parent.parent
#: Typer 0.29 converts users' values with pydantic, whose messages differ from Click's.
TYPER_029 = tuple(int(part) for part in typer.__version__.split(".")[:2]) >= (0, 29)


def not_an_int(value: str) -> str:
    """Typer's message for a value of a user's `int` parameter that is not an int."""
    if TYPER_029:
        return "Input should be a valid integer, unable to parse string as an integer"
    return f"{value!r} is not a valid int."


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test writes history or prompt files outside its own temporary folder."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("FALYX_HISTORY", "off")
    monkeypatch.delenv("FALYX_LOG_FORMAT", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    # Output widths are the tests' to choose: pytest-xdist's workers inherit COLUMNS=80.
    for name in ("COLUMNS", "LINES"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _falyx_logger_restored() -> Iterator[None]:
    """A CLI run installs a console handler on the `falyx` logger; take it off afterwards."""
    logger = logging.getLogger("falyx")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)
    logger.propagate = propagate


@pytest.fixture
def falyx_log(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch):
    """caplog for the `falyx` logger at INFO, whatever other tests did to that logger."""
    logger = logging.getLogger("falyx")
    monkeypatch.setattr(logger, "propagate", True)
    monkeypatch.setattr(logger, "disabled", False)
    caplog.set_level(logging.INFO, logger="falyx")
    return caplog


class FakeSleep:
    """An injectable retry sleep that records the waits and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def fake_sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def registry(fake_sleep: FakeSleep) -> Iterator[ExecutionRegistry]:
    """A fresh registry (and the instant sleep) for every step run inside the test."""
    reg = ExecutionRegistry()
    with using_options(RunOptions(registry=reg, sleep=fake_sleep)):
        yield reg


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a child Python: this checkout importable, history isolated."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env
