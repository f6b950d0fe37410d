"""Every file in `examples/` runs headless, quickly and deterministically."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

from tests.conftest import ROOT, subprocess_env

pytestmark = pytest.mark.slow

EXAMPLES = ROOT / "examples"


@dataclass(frozen=True)
class Case:
    script: str
    args: tuple[str, ...]
    stdout_lines: list[str]  # compared sorted when `concurrent`
    env: dict[str, str] = field(default_factory=dict)
    concurrent: bool = False


CASES = [
    # The seed's quick example: a flaky two-step chain; seed 2 makes both steps succeed.
    Case("simple.py", ("-n", "run", "R", "--json"), ["ok", "ok", "<json>"],
         env={"FALYX_DEMO_SEED": "2"}),
    Case("decorators.py", ("run", "R", "-y", "--target", "qa"),
         ["built qa", "tests passed", "deployed to staging"]),
    Case("decorators.py", ("run-all", "-t", "ci", "-y"),
         ["built prod", "lint ok", "tests passed", "typecheck ok"], concurrent=True),
    Case("decorators.py", ("noop",), []),
    # The same fan-out on the local process pool, then on an in-process Dask LocalCluster.
    Case("scale_out.py", ("primes", "--chunks", "4", "--size", "5000"),
         ["2262 primes below 20000 (4 chunks)"]),
    Case("scale_out.py", ("--executor", "dask:2", "primes", "--chunks", "4", "--size", "5000"),
         ["2262 primes below 20000 (4 chunks)"]),
    # Shell steps end to end (the group of checks prints concurrently), then the ops submenu.
    Case("runbook.py", ("release", "-y", "--tag", "2.0", "--pause", "0"),
         ["2.0", "built app-2.0.tar.gz", "deployed to staging", "lint ok", "tests passed"],
         concurrent=True),
    Case("runbook.py", ("ops", "status"), ["web: running", "db: running"]),
    Case("runbook.py", ("ops", "run", "R", "-y", "--service", "db"), ["stopping db", "started db"]),
    Case("runbook.py", ("run", "O.S"), ["web: running", "db: running"]),
]


def test_every_example_has_a_case() -> None:
    on_disk = {path.name for path in EXAMPLES.glob("*.py")}

    assert on_disk == {case.script for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.script} {' '.join(c.args)}")
def test_example_runs_headless(case: Case) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / case.script), *case.args], capture_output=True,
        text=True, env=subprocess_env(**case.env), timeout=60, cwd=ROOT,
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    if "<json>" in case.stdout_lines:
        outcome = json.loads(lines[-1])
        assert outcome["status"] == "OK" and outcome["error"] is None
        lines[-1] = "<json>"
    assert (sorted(lines) if case.concurrent else lines) == case.stdout_lines
