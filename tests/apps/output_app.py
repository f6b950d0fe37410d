"""An app for the output tests in a terminal: a spinner over every way a step writes, and a
confirmed deploy whose arguments are an Enum and a path."""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import sys
from pathlib import Path

from falyx import Falyx, ShellAction, chain

app = Falyx("🧪 Output test", program="output_app")


async def wait_for_go() -> None:
    """Holds the run until the test has seen the spinner drawn (it creates $FALYX_TEST_GO)."""
    go = Path(os.environ["FALYX_TEST_GO"])
    while not go.exists():
        await asyncio.sleep(0.01)


def speak() -> None:
    """A sync step (a worker thread): a log line first (the spinner's line is the last thing
    on the screen then), then a print to each stream."""
    logging.getLogger("falyx").warning("log line from a step")
    print("print to stdout", flush=True)
    print("print to stderr", file=sys.stderr, flush=True)


def trail() -> str:
    """A line left without its end when the spinner stops."""
    print("no newline yet", end="", file=sys.stderr, flush=True)
    return "spoken"


SHELL = ShellAction("shell", [sys.executable, "-c",
                              "import sys; print('shell stdout', flush=True); "
                              "print('shell stderr', file=sys.stderr)"])
app.add_command(key="S", description="Speak", spinner=True, spinner_message="Speaking busily",
                action=chain(wait_for_go, speak, SHELL, trail, name="speak"))


class Env(str, enum.Enum):
    dev = "dev"
    prod = "prod"


@app.command(key="D", confirm=True)
def deploy(env: Env = Env.dev, out_dir: Path = Path("/tmp/out dir")) -> str:
    """Deploy."""
    print(f"deployed to {env.value} from {out_dir}", flush=True)
    return env.value


if __name__ == "__main__":
    app()
