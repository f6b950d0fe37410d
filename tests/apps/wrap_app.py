"""An app whose steps wrap other steps in `Action(...)` (a decorated command's, a chain, a
shell step): their options and arguments are the inner steps'."""

from __future__ import annotations

import asyncio
import sys

from falyx import Falyx, chain
from falyx.action import Action, ShellAction

app = Falyx("🎁 Wrap", program="wrap_app")


async def a(count: int = 1) -> int:
    print("a", count, flush=True)
    return count


async def slow_fn(secs: float = 5) -> str:
    await asyncio.sleep(secs)
    return f"slept {secs}"


def deploy(*, target: str, replicas: int = 2) -> str:
    print(f"deploy {target} x{replicas}", flush=True)
    return target


deco = app.command(key="D")(slow_fn)
app.add_command(key="W", description="wrapped command", action=chain(
    a, Action("slow_to", deco, timeout=0.5), name="w"))
app.add_command(key="T", description="wrapped required option", action=Action(
    "deploy_wrap", Action("deploy", deploy), timeout=30))
app.add_command(key="C", description="wrapped chain", action=Action(
    "chain_wrap", chain(a, deploy, name="inner"), kwargs={"replicas": 3}))
app.add_command(key="S", description="wrapped shell step", action=Action(
    "shell_wrap", ShellAction("greet", [sys.executable, "-c", "print('hi', '{who}')"],
                              params={"who": "you"}), timeout=30))

if __name__ == "__main__":
    app()
