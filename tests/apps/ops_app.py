"""An app for the cancellation tests: batches, rollbacks that fail or hang, process steps.

Every line a test waits for is printed with flush=True. `MARKERS` names a folder where the
process steps write marker files (the pid of the worker that runs them).
"""

from __future__ import annotations

import asyncio
import os

from falyx import Falyx, chain
from falyx.action import Action, ProcessAction
from tests import helpers_process as work

app = Falyx("🧪 Ops", program="ops_app")
MARKERS = os.environ.get("MARKERS", ".")


def say(text: str):
    def speak(*_: object, **__: object) -> str:
        print(text + "\n", end="", flush=True)  # one write: threads print concurrently here
        return text

    speak.__name__ = text.split()[-1]
    return speak


def waiter(name: str):
    async def wait(**_: object) -> None:
        print(f"{name} waiting", flush=True)
        await asyncio.Event().wait()

    return Action(f"{name}_wait", wait)


def batch_chain(name: str):
    prepare = Action(f"{name}_prepare", say(f"{name} prepared"),
                     rollback=say(f"{name} rolled back"))
    return chain(prepare, waiter(name), name=f"{name}_job")


app.add_command("A", "Job A", batch_chain("A"), tags=["batch"], name="job-a")
app.add_command("B", "Job B", batch_chain("B"), tags=["batch"], name="job-b")
app.add_command("Q", "Quick", say("quick done"), tags=["gated"], name="quick")
app.add_command("G", "Gated", say("gated done"), tags=["gated"], confirm=True, name="gated")


def broken_undo(*_: object, **__: object) -> None:
    raise OSError("disk full")


def deploy() -> None:
    raise RuntimeError("deploy failed")


app.add_command("U", "Undo fails", chain(
    Action("build", say("built"), rollback=broken_undo),
    Action("test", say("tested"), rollback=say("untested")),
    Action("deploy", deploy), name="release"), tags=["undo"], name="undo-fails")


app.add_command("V", "Undo fails on cancel", chain(
    Action("build", say("built"), rollback=broken_undo), waiter("V"), name="cancelled_release"),
    name="undo-fails-on-cancel")


async def slow_undo(*_: object, **__: object) -> None:
    print("undoing second", flush=True)
    await asyncio.Event().wait()


app.add_command("S", "Slow rollback", chain(
    Action("first", say("first done"), rollback=say("undid first")),
    Action("second", say("second done"), rollback=slow_undo),
    waiter("third"), name="slow_rollback"), name="slow-rollback")

# A first process step starts the pool, so the timed step's second is all its own (starting
# workers on a loaded machine can take longer than the timeout).
app.add_command("T", "Process timeout", chain(
    ProcessAction("start pool", work.pid_after),
    ProcessAction("spin", work.spin, args=(os.path.join(MARKERS, "spin"),), timeout=1.0,
                  kill_grace=float(os.environ.get("KILL_GRACE", "5"))),
    name="process_timeout"), name="process-timeout")
app.add_command("D", "Deaf process timeout", chain(
    ProcessAction("start pool", work.pid_after),
    ProcessAction("deaf", work.spin_deaf, args=(os.path.join(MARKERS, "deaf"),), timeout=1.0,
                  kill_grace=float(os.environ.get("KILL_GRACE", "5"))),
    name="deaf_timeout"), name="deaf-timeout")
app.add_command("P", "Process chain", chain(
    Action("prepare", say("prepared"), rollback=say("rolled back")),
    ProcessAction("spin", work.spin, args=(os.path.join(MARKERS, "spin"),)),
    name="process_chain"), name="process-chain")
app.add_command("PG", "Gated process chain", chain(
    Action("prepare", say("prepared"), rollback=say("rolled back")),
    ProcessAction("gated", work.gated, args=(os.path.join(MARKERS, "gated"),
                                             os.path.join(MARKERS, "gate")),
                  rollback=say("undid gated")),
    name="gated_chain"), name="gated-chain")
app.add_command("W", "Where", ProcessAction("where", work.where), name="where")


if __name__ == "__main__":
    app()
