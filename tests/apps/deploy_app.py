"""A deploy app like a new user's (a required choice option in a chain, a path option, a
submenu), for the tests of options in previews, run-all, completion and menu lines.

    root  F fetch [--ref]      D deploy --env {dev,staging,prod} [--replicas]  (confirm)
          R release = fetch -> deploy (tag release)      P package [--out-dir PATH] (tag release)
          O -> ops
    ops   S status [--detail]   C careful (confirm)

`make_app()` builds a fresh one (tests in-process); run as a script it is the app. Every
line a test waits for is printed with flush=True.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from falyx import Falyx, chain


class Env(str, Enum):
    dev = "dev"
    staging = "staging"
    prod = "prod"


def make_app() -> Falyx:
    app = Falyx("🛠 Deploy tools", program="deploy_app")
    ops = Falyx("🔧 Ops", program="ops")

    @app.command(key="F")
    def fetch(ref: str = "main") -> str:
        """Fetch sources."""
        print(f"fetching {ref}", flush=True)
        return ref

    @app.command(key="D", confirm=True)
    def deploy(*, env: Env, replicas: int = 2) -> str:
        """Deploy to an environment."""
        print(f"deployed to {env.value} x{replicas}", flush=True)
        return env.value

    @app.command(key="P", tags=["release"])
    def package(out_dir: Path = Path("dist")) -> str:
        """Package the build."""
        print(f"packaged into {out_dir}", flush=True)
        return str(out_dir)

    app.add_command("R", "Release", chain(fetch, deploy, name="release"), tags=["release"])

    @ops.command(key="S")
    def status(detail: bool = False) -> str:
        """Show the status."""
        print(f"all good (detail={detail})", flush=True)
        return "ok"

    ops.add_command("C", "Careful", lambda: print("careful done", flush=True), name="careful",
                    confirm=True)
    app.add_submenu("O", "Ops", ops)
    return app


if __name__ == "__main__":
    make_app()()
