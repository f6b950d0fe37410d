"""A second floor: the same CLI surface as falyx gives examples/decorators.py, hand-written.

Global options, the six commands with the run options, `run KEY`, `run-all`, `preview`,
`history` and `help`, and commands that run their function with `asyncio.run` — what a user
would write with Typer alone to get the CLI (not the engine) that falyx generates.
"""

import asyncio
from typing import Annotated, Optional

import typer

app = typer.Typer(help="🚀 Deploy tools")
Yes = Annotated[bool, typer.Option("-y", "--skip-confirm", help="Run without asking.")]
Confirm = Annotated[bool, typer.Option("--confirm", help="Ask first.")]
Summary = Annotated[bool, typer.Option("--summary", help="Print a table of every step.")]
Retries = Annotated[Optional[int], typer.Option("--retries", help="Override retries.")]
Delay = Annotated[Optional[float], typer.Option("--retry-delay", help="Override the delay.")]
Backoff = Annotated[Optional[float], typer.Option("--retry-backoff", help="Override backoff.")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


async def _noop() -> None:
    return None


@app.callback()
def main(
    menu: Annotated[bool, typer.Option("--menu", help="Open the interactive menu.")] = False,
    never_prompt: Annotated[bool, typer.Option("-n", "--never-prompt")] = False,
    verbose: Annotated[bool, typer.Option("-v", "--verbose")] = False,
    log_format: Annotated[str, typer.Option("--log-format")] = "rich",
    history: Annotated[Optional[str], typer.Option("--history")] = None,
    version: Annotated[bool, typer.Option("--version")] = False,
) -> None:
    """🚀 Deploy tools"""


def _command(name: str, doc: str) -> None:
    def run(yes: Yes = False, confirm: Confirm = False, summary: Summary = False,
            retries: Retries = None, delay: Delay = None, backoff: Backoff = None,
            json: Json = False) -> None:
        asyncio.run(_noop())

    run.__doc__ = doc
    app.command(name=name)(run)


for _name, _doc in [("build", "Build the artefact for a target."), ("test", "Run the tests."),
                    ("deploy", "Deploy the artefact."), ("checks", "Checks."),
                    ("release", "Release."), ("noop", "Do nothing.")]:
    _command(_name, _doc)


@app.command("run")
def run_key(key: str, yes: Yes = False, confirm: Confirm = False, summary: Summary = False,
            retries: Retries = None, delay: Delay = None, backoff: Backoff = None,
            json: Json = False) -> None:
    """Run a command by key or alias."""
    asyncio.run(_noop())


@app.command("run-all")
def run_all(tag: Annotated[str, typer.Option("-t", "--tag")], yes: Yes = False) -> None:
    """Run every command with a tag, concurrently."""


@app.command("preview")
def preview(key: str) -> None:
    """Show the tree of what a command would run."""


@app.command("history")
def history(status: Optional[str] = None, name: Optional[str] = None,
            command: Optional[str] = None, limit: int = 50, result_index: Optional[int] = None,
            last_result: bool = False, run: Optional[str] = None, clear: bool = False,
            json: Json = False) -> None:
    """Show the execution history."""


@app.command("help")
def help_() -> None:
    """List the commands."""


if __name__ == "__main__":
    app()
