"""Shell step overhead: a `ShellAction` running `true` against bare asyncio, in the same run.

    .venv/bin/python benchmarks/shell.py [--rounds N] [--quick] [--markdown]

Cases, each run once per round in turn (so drift hits all alike), after warm-up rounds:
- floor: `await (await asyncio.create_subprocess_exec("true")).wait()`;
- piped floor: the same spawn as a shell step makes it — stdout and stderr piped, a session
  of its own, a bare `SubprocessProtocol` — without falyx: what capturing output costs;
- `await ShellAction("true", ["true"])()` with a fresh `ExecutionRegistry` installed
  (recording on), i.e. the whole lifecycle plus piped, streamed and captured output and the
  process-group check at exit;
- the same through `await app.run_key("T")` (the command's record too).
Figures are best and median of `time.perf_counter` per run; a ratio is the median over
rounds of (time / floor time in the same round); the target is judged against the bare floor.

A benchmark, not a test: it prints the figures next to the target and always exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's falyx

import falyx
from falyx import ExecutionRegistry, Falyx, ShellAction
from falyx.action.options import RunOptions, using_options

TARGET_RATIO = 1.3  # ShellAction `true` / bare create_subprocess_exec + wait


async def bare_true() -> None:
    proc = await asyncio.create_subprocess_exec("true")
    await proc.wait()


class _Pipes(asyncio.SubprocessProtocol):
    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.exited, self.closed = loop.create_future(), loop.create_future()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        pass

    def process_exited(self) -> None:
        self.exited.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set_result(None)


async def piped_true() -> None:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.subprocess_exec(
        _Pipes, "true", stdin=None, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True)
    try:
        await protocol.exited
        await protocol.closed
    finally:
        transport.close()


def cases() -> dict[str, tuple[Callable[[], Awaitable[object]], RunOptions | None]]:
    step = ShellAction("true", ["true"])
    app = Falyx("bench", program="bench", history="off")
    app.add_command("T", "true", ShellAction("true", ["true"]))
    return {
        "bare create_subprocess_exec('true') + wait": (bare_true, None),
        "piped floor: stdout+stderr piped, own session": (piped_true, None),
        "ShellAction('true')": (step, RunOptions(registry=ExecutionRegistry())),
        "app.run_key('T') of a ShellAction('true')": (lambda: app.run_key("T"), None),
    }


async def timed(run: Callable[[], Awaitable[object]], options: RunOptions | None) -> float:
    if options is None:
        started = time.perf_counter()
        await run()
        return time.perf_counter() - started
    with using_options(options):
        started = time.perf_counter()
        await run()
        return time.perf_counter() - started


async def measure(rounds: int, warmup: int) -> dict[str, list[float]]:
    table = cases()
    samples: dict[str, list[float]] = {label: [] for label in table}
    for i in range(warmup + rounds):
        for label, (run, options) in table.items():
            elapsed = await timed(run, options)
            if i >= warmup:
                samples[label].append(elapsed)
    return samples


def _paired(values: list[float], floor: list[float]) -> float:
    """Median over rounds of value / floor in the same round: drift cancels."""
    return statistics.median(a / b for a, b in zip(values, floor, strict=True))


def render(samples: dict[str, list[float]], markdown: bool) -> str:
    labels = list(samples)
    floor = samples[labels[0]]
    piped = samples[labels[1]]
    header = ["case", "best ms", "median ms", "ratio to bare", "ratio to piped", "target"]
    rows = []
    for label in labels:
        values = samples[label]
        ratio = _paired(values, floor)
        target = ""
        if label.startswith("ShellAction"):
            ok = ratio <= TARGET_RATIO
            target = f"≤ {TARGET_RATIO}× bare: {'OK' if ok else 'MISS'}"
        rows.append([label, f"{min(values) * 1e3:.3f}", f"{statistics.median(values) * 1e3:.3f}",
                     f"{ratio:.2f}×", f"{_paired(values, piped):.2f}×", target])
    if markdown:
        return "\n".join("| " + " | ".join(r) + " |"
                         for r in [header, ["---"] * len(header), *rows])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in [header, *rows])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300, help="timed rounds (default 300)")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up rounds (default 20)")
    parser.add_argument("--quick", action="store_true", help="30 rounds, 5 warm-up")
    parser.add_argument("--markdown", action="store_true", help="the table as Markdown")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.warmup = 30, 5
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print("falyx shell step overhead (benchmarks/shell.py)")
    print(f"Python   {platform.python_implementation()} {platform.python_version()}; "
          f"{platform.platform()}; {os.cpu_count()} CPUs; falyx {falyx.__version__}")
    print(f"Timing   {args.rounds} rounds (each case once per round) after {args.warmup} "
          "warm-up; per run: spawn, wait, and for falyx the lifecycle and record")
    if load is not None:
        print(f"Load     {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min) at start")
    print()
    print(render(asyncio.run(measure(args.rounds, args.warmup)), args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
