"""An app with submenus two deep, for the submenu tests (CLI, signals, a real terminal).

    root  G greet                  O -> ops
    ops   R restart-db [--force]   S slow (rolls back)   F fail (rolls back)
          U undo-fails (exit 3)    C careful (confirm)   D -> db
    db    V vacuum [--table T]

Every line a test waits for is printed with flush=True.
"""

from __future__ import annotations

import asyncio

from falyx import Falyx, chain
from falyx.action import Action

app = Falyx("🧪 Root tools", program="submenu_app")
ops = Falyx("🔧 Ops tools", program="ops")
db = Falyx("🗄 DB tools", program="db")
runs = {"count": 0}
app.bottom_bar.add_counter("runs", "Runs", lambda: runs["count"])


def say(text: str):
    def speak(*_: object, **__: object) -> str:
        print(text, flush=True)
        return text

    speak.__name__ = text.replace(" ", "_")
    return speak


@app.command(key="G", tags=["demo"])
def greet() -> str:
    """Greet."""
    runs["count"] += 1
    print("hello from the root", flush=True)
    return "hello"


@ops.command(key="R", tags=["x"])
def restart_db(force: bool = False) -> str:
    """Restart the database."""
    runs["count"] += 1
    print(f"restarting the database (force={force})", flush=True)
    return "restarted"


async def wait_forever(**_: object) -> None:
    print("slow step waiting", flush=True)
    await asyncio.Event().wait()


def fail(**_: object) -> None:
    raise RuntimeError("status check failed")


def broken_undo(*_: object, **__: object) -> None:
    raise OSError("disk full")


ops.add_command("S", "Slow job", chain(
    Action("prepare", say("prepared"), rollback=say("rolled back prepare")),
    Action("wait_forever", wait_forever), name="slow_job"), name="slow", tags=["x"])
ops.add_command("F", "Fail", chain(
    Action("warm", say("warmed"), rollback=say("rolled back warm")),
    Action("check", fail), name="failing_job"), name="fail")
ops.add_command("U", "Undo fails", chain(
    Action("warm", say("warmed"), rollback=broken_undo),
    Action("check", fail), name="undo_job"), name="undo-fails")
ops.add_command("C", "Careful", say("careful done"), name="careful", confirm=True)


@db.command(key="V")
def vacuum(table: str = "all") -> str:
    """Vacuum a table."""
    print(f"vacuuming {table}", flush=True)
    return f"vacuumed {table}"


ops.add_submenu("D", "Database", db)
app.add_submenu("O", "Ops", ops, tags=["admin"], style="bold")

if __name__ == "__main__":
    app()
