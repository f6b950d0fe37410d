"""An app for the tests of sync steps cancelled while their thread runs.

A sync step or rollback here blocks until the test releases it by writing to the FIFO named
by `$GATE` (or forever, without one); every line a test waits for is printed with flush=True.
"""

from __future__ import annotations

import asyncio
import os
import threading

from falyx import Falyx, chain
from falyx.action import Action

app = Falyx("🧵 Threads", program="threads_app")


def say(text: str) -> None:
    print(text, flush=True)


def blocked() -> None:
    """Block until the test writes to `$GATE` and closes it (forever without a gate)."""
    gate = os.environ.get("GATE")
    if gate:
        with open(gate) as fifo:  # opening blocks until the test opens it to write
            fifo.read()
    else:
        threading.Event().wait()


def create() -> str:
    say("created db")
    return "db"


def drop(*_: object, **__: object) -> None:
    say("dropped db")


def migrate() -> None:
    say("migrate started")
    blocked()
    say("migrate finished")


app.add_command("M", "Migrate", chain(
    Action("create", create, rollback=drop), Action("migrate", migrate), name="migrate_db"),
    name="migrate")


def undo_b(*_: object, **__: object) -> None:
    say("undoing b")
    blocked()
    say("undid b")


async def wait_forever() -> None:
    say("c waiting")
    await asyncio.Event().wait()


app.add_command("U", "Slow sync rollback", chain(
    Action("a", lambda: say("a done"), rollback=drop),
    Action("b", lambda: say("b done"), rollback=undo_b),
    Action("c", wait_forever), name="abc"), name="slow-undo")


def unmigrate(*_: object, **__: object) -> None:
    say("unmigrated")


def migrate_then_fail() -> None:
    migrate()
    raise RuntimeError("migration broke")


app.add_command("MR", "Migrate with rollback", chain(
    Action("create", create, rollback=drop), Action("migrate", migrate, rollback=unmigrate),
    name="migrate_rb"), name="migrate-rb")
app.add_command("MX", "Migrate that fails late", chain(
    Action("create", create, rollback=drop),
    Action("migrate", migrate_then_fail, rollback=unmigrate), name="migrate_fails"),
    name="migrate-fails")


if __name__ == "__main__":
    app()
