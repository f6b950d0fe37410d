"""The decorator form: plain functions become commands, composed into a release chain.

    python examples/decorators.py --help
    python examples/decorators.py build --target staging
    python examples/decorators.py run R -y            # build -> test -> deploy
    python examples/decorators.py preview R
    python examples/decorators.py run-all -t ci -y

Environment switches make failures deterministic (the tests use them):

    FAIL_BUILD=N   the first N build attempts fail, so the retries show
    FAIL_DEPLOY=1  deploy raises, so the completed build is rolled back
    SLOW_DEPLOY=1  deploy prints "deploying..." and waits until interrupted (try Ctrl-C)
"""

import os

from falyx import Falyx, RetryPolicy, chain, group

app = Falyx("🚀 Deploy tools")
_build_attempts = {"count": 0}


def undo_build(target: str = "prod") -> None:
    """Remove what `build` made (called by the rollback with build's own arguments)."""
    print(f"rolled back build of {target}", flush=True)


@app.command(
    key="B",
    retry=RetryPolicy(max_retries=2, delay=0.1, jitter=0.05),
    rollback=undo_build,
    tags=["ci"],
)
async def build(target: str = "prod") -> str:
    """Build the artefact for a target.

    Retried twice on failure; rolled back if a later step of the release fails.
    """
    _build_attempts["count"] += 1
    if _build_attempts["count"] <= int(os.environ.get("FAIL_BUILD", "0")):
        print(f"build attempt {_build_attempts['count']} failed", flush=True)
        raise RuntimeError(f"build of {target} failed")
    print(f"built {target}", flush=True)
    return f"{target}.tar.gz"


@app.command(key="T", tags=["ci"])
async def test() -> str:
    """Run the test suite."""
    print("tests passed", flush=True)
    return "passed"


@app.command(key="D", confirm=True)
async def deploy(env: str = "staging") -> str:
    """Deploy the artefact to an environment."""
    if os.environ.get("SLOW_DEPLOY") == "1":
        import asyncio  # here, not at the top: `--help` never needs it

        print("deploying...", flush=True)
        await asyncio.Event().wait()  # until Ctrl-C or SIGTERM cancels the run
    if os.environ.get("FAIL_DEPLOY") == "1":
        raise RuntimeError(f"deploy to {env} failed")
    print(f"deployed to {env}", flush=True)
    return env


async def lint() -> str:
    print("lint ok", flush=True)
    return "clean"


async def typecheck() -> str:
    print("typecheck ok", flush=True)
    return "typed"


app.add_command(key="C", description="Checks", action=group(lint, typecheck, name="checks"),
                tags=["ci"])
app.add_command(key="R", description="Release", action=chain(build, test, deploy, name="release"),
                confirm=True)


@app.command(key="N")
async def noop() -> None:
    """Do nothing (the benchmarks time the framework around it)."""


if __name__ == "__main__":
    app()
