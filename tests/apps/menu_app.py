"""A small app for the menu's terminal tests: a toggle, a counter, a slow and a failing command."""

from __future__ import annotations

import asyncio
import enum
import logging

from falyx import Falyx
from falyx.action import Action, ChainedAction

app = Falyx("🧪 Menu Test", program="menu_app")
runs = {"count": 0}


def _set_log_level(on: bool) -> None:
    """Ctrl+V: debug logs on or off (the logger and its console handler)."""
    logger = logging.getLogger("falyx")
    for target in (logger, *logger.handlers):
        target.setLevel(logging.DEBUG if on else logging.WARNING)


verbose = app.bottom_bar.add_toggle("V", "verbose", on_change=_set_log_level)
app.bottom_bar.add_counter("runs", "Runs", lambda: runs["count"])
app.bottom_bar.add_static("where", "menu test")


def greet() -> str:
    runs["count"] += 1
    return "hello"


def show_verbose() -> str:
    """Actions read toggles through `.value`."""
    level = logging.getLevelName(logging.getLogger("falyx").level)
    print(f"verbose is {'on' if verbose.value else 'off'}, log level {level}", flush=True)
    return level


def prepare() -> str:
    print("prepared", flush=True)
    return "prepared"


def undo_prepare(*_: object, **__: object) -> None:
    print("rolled back", flush=True)


async def wait_forever(last_result: object = None) -> None:
    print("slow step waiting", flush=True)
    await asyncio.Event().wait()


def fail() -> None:
    raise RuntimeError("boom")


class Env(str, enum.Enum):
    STAGING = "staging"
    PROD = "prod"


def build(jobs: int = 1) -> None:
    """Options typed after the key are parsed by the command's own CLI."""
    print(f"building with {jobs!r} jobs", flush=True)


def deploy(env: Env = Env.STAGING) -> None:
    print(f"deploying to {env.value}", flush=True)


app.add_command("G", "Greet", greet, aliases=["HI"], tags=["demo"], style="green")
app.add_command("L", "Show verbose", show_verbose, tags=["demo"])
app.add_command(
    "S", "Slow job",
    ChainedAction("slow_job", [Action("prepare", prepare, rollback=undo_prepare),
                               Action("wait_forever", wait_forever)]),
    tags=["ops"],
)
app.add_command("F", "Fail", fail, tags=["ops"])
app.add_command("B", "Build", build, tags=["ops"])
app.add_command("D", "Deploy", deploy, tags=["ops"], confirm=True)

if __name__ == "__main__":
    app()
