"""The floor for start-up: a bare Typer app with the same commands as examples/decorators.py.

`noop` runs a no-op coroutine with `asyncio.run`, as an async command must: the floor for
`run N -y`. asyncio is imported there, not at the top, so `--help` stays the bare floor.
"""

import typer

app = typer.Typer(help="🚀 Deploy tools")


@app.command()
def build(target: str = "prod") -> None:
    """Build the artefact for a target."""
    print(f"built {target}")


@app.command()
def test() -> None:
    """Run the test suite."""
    print("tests passed")


@app.command()
def deploy(env: str = "staging", yes: bool = typer.Option(False, "-y")) -> None:
    """Deploy the artefact to an environment."""
    print(f"deployed to {env}")


@app.command()
def checks() -> None:
    """Checks."""


@app.command()
def release(yes: bool = typer.Option(False, "-y")) -> None:
    """Release."""


@app.command()
def noop(yes: bool = typer.Option(False, "-y")) -> None:
    """Do nothing."""
    import asyncio

    async def nothing() -> None:
        return None

    asyncio.run(nothing())


if __name__ == "__main__":
    app()
