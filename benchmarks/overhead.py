"""Engine overhead: what the one lifecycle costs per step, against floors measured in the same run.

    .venv/bin/python benchmarks/overhead.py [--rounds N] [--steps N] [--quick] [--markdown]

Timing: every round runs each case once, in turn (so drift hits all cases alike), after
warm-up rounds; figures are best and median of `time.perf_counter` over the rounds, divided
by the number of steps. Each falyx case runs with its own fresh `ExecutionRegistry`
(limit 10,000) installed through `using_options(RunOptions(registry=...))`, so recording is
on and the ring is full (evicting) in the timed rounds, as in a long-lived app.

Sync steps: a sync function runs in one of falyx's step threads (`falyx.action.scopes.call`,
`falyx.action.threads`); `--sync-steps` calls of a sync no-op per round through `call`, and a
chain of that many sync `Action`s, against the floor of as many `asyncio.to_thread` calls in
the same round (what `call` used before it waited for cancelled threads).

Memory: `tracemalloc` bytes still allocated after N recorded steps into a fresh registry
(limit 10,000), per record held in the ring, and the same figure at 10k / 20k / 40k
recorded steps to show the ring keeps memory flat past its limit.

A benchmark, not a test: it prints the figures next to their targets and always exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's falyx

import falyx
from falyx import Action, ActionGroup, ChainedAction, ExecutionRegistry
from falyx.action.options import RunOptions, using_options
from falyx.action.scopes import call

LIMIT = 10_000  # ring size used throughout (the default)
TARGET_CHAIN_US = 2.5  # µs per chained step
TARGET_CALL_RATIO = 1.05  # a sync call through falyx vs asyncio.to_thread
TARGET_GROUP_RATIO = 2.0  # group per-member time vs the gather floor
TARGET_BYTES = 600  # bytes per in-memory history record
FLAT_TOLERANCE = 0.02  # memory at 40k vs 10k recorded steps (limit 10k): at most +2 %


async def noop() -> None:
    return None


async def take(last_result: object = None) -> None:
    return None


def sync_noop() -> None:
    return None


# -- timing ---------------------------------------------------------------------------------


class Case:
    """One timed workload: `run()` does `steps` steps; `registry` is installed around it."""

    def __init__(
        self, label: str, run: Callable[[], Awaitable[object]], registry: ExecutionRegistry | None
    ) -> None:
        self.label = label
        self.run = run
        self.options = None if registry is None else RunOptions(registry=registry)
        self.registry = registry
        self.samples: list[float] = []

    async def once(self) -> float:
        if self.options is None:
            started = time.perf_counter()
            await self.run()
            return time.perf_counter() - started
        with using_options(self.options):
            started = time.perf_counter()
            await self.run()
            return time.perf_counter() - started

    def best(self, steps: int) -> float:
        return min(self.samples) / steps * 1e6

    def median(self, steps: int) -> float:
        return statistics.median(self.samples) / steps * 1e6


def build_cases(steps: int) -> dict[str, Case]:
    chain = ChainedAction("bench-chain", [Action(f"step-{i}", noop) for i in range(steps)])
    injecting = ChainedAction("bench-inject", [Action(f"step-{i}", take) for i in range(steps)],
                              auto_inject=True)
    group = ActionGroup("bench-group", [Action(f"member-{i}", noop) for i in range(steps)])
    single = Action("bench-single", noop)

    async def standalone() -> None:
        for _ in range(steps):
            await single()

    async def bare() -> None:
        for _ in range(steps):
            await noop()

    async def gather() -> None:
        await asyncio.gather(*[noop() for _ in range(steps)])

    return {
        "chain": Case(f"ChainedAction of {steps:,} Actions", chain, ExecutionRegistry(LIMIT)),
        "inject": Case(f"ChainedAction of {steps:,}, auto_inject", injecting,
                       ExecutionRegistry(LIMIT)),
        "group": Case(f"ActionGroup of {steps:,} Actions", group, ExecutionRegistry(LIMIT)),
        "single": Case(f"{steps:,} standalone awaits of one Action", standalone,
                       ExecutionRegistry(LIMIT)),
        "bare": Case(f"floor: {steps:,} bare `await noop()`", bare, None),
        "gather": Case(f"floor: asyncio.gather of {steps:,} noop()", gather, None),
    }


def build_sync_cases(steps: int) -> dict[str, Case]:
    chain = ChainedAction("bench-sync", [Action(f"sync-{i}", sync_noop) for i in range(steps)])

    async def calls() -> None:
        for _ in range(steps):
            await call(sync_noop, (), {})

    async def to_thread() -> None:
        for _ in range(steps):
            await asyncio.to_thread(sync_noop)

    return {
        "call": Case(f"{steps:,} `call(sync_noop)`", calls, None),
        "sync-chain": Case(f"ChainedAction of {steps:,} sync Actions", chain,
                           ExecutionRegistry(LIMIT)),
        "to_thread": Case(f"floor: {steps:,} `asyncio.to_thread(sync_noop)`", to_thread, None),
    }


async def time_cases(steps: int, rounds: int, warmup: int,
                     build: Callable[[int], dict[str, Case]] | None = None) -> dict[str, Case]:
    if build is not None:  # the sync cases: timed the same way, nothing to check
        cases = build(steps)
        for _ in range(warmup):
            for case in cases.values():
                await case.once()
        for _ in range(rounds):
            for case in cases.values():
                case.samples.append(await case.once())
        return cases
    cases = build_cases(steps)
    for _ in range(warmup):
        for case in cases.values():
            await case.once()
    gc.collect()
    for _ in range(rounds):
        for case in cases.values():
            case.samples.append(await case.once())
    runs = warmup + rounds  # sanity: every step was really recorded into its own registry
    expected = {"chain": (steps + 1) * runs, "inject": (steps + 1) * runs,
                "group": (steps + 1) * runs, "single": steps * runs}
    for key, count in expected.items():
        registry = cases[key].registry
        held = len(registry) if registry is not None else 0
        if held != min(count, LIMIT):
            print(f"WARNING: {key} registry holds {held} records, expected {min(count, LIMIT)}")
    return cases


# -- memory ---------------------------------------------------------------------------------


async def retained_after(make_run: Callable[[], tuple[Callable[[], Awaitable[object]], int]],
                         checkpoints: list[int]) -> tuple[list[int], int]:
    """Bytes still allocated after each checkpoint of recorded steps into a fresh registry.

    `make_run()` returns (a coroutine function, records it adds per call). Warm-up runs go
    into a throwaway registry before tracing starts; the measured registry is created under
    tracing, so its deque blocks count.
    """
    run, per_call = make_run()
    with using_options(RunOptions(registry=ExecutionRegistry(LIMIT))):
        for _ in range(3):
            await run()
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        registry = ExecutionRegistry(LIMIT)
        sizes: list[int] = []
        done = 0
        with using_options(RunOptions(registry=registry)):
            for target in checkpoints:
                while done < target:
                    await run()
                    done += per_call
                gc.collect()
                sizes.append(tracemalloc.get_traced_memory()[0] - base)
        held = len(registry)
    finally:
        tracemalloc.stop()
    return sizes, held


def chain_run() -> tuple[Callable[[], Awaitable[object]], int]:
    # 999 steps + the chain itself = 1,000 records per run, so checkpoints land exactly
    chain = ChainedAction("mem-chain", [Action(f"step-{i}", noop) for i in range(999)])
    return chain, 1000


def single_run() -> tuple[Callable[[], Awaitable[object]], int]:
    single = Action("mem-single", noop)
    return single, 1


# -- report ---------------------------------------------------------------------------------


def machine_info() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    impl = platform.python_implementation()
    return [
        f"Python   {impl} {platform.python_version()} ({sys.version.splitlines()[0]})",
        f"Machine  {platform.platform()} | {platform.machine()} | {cpu} | "
        f"{os.cpu_count()} CPUs",
        f"falyx    {falyx.__version__} from {Path(falyx.__file__).parent}",
    ]


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISS"


def table(rows: list[list[str]], header: list[str], markdown: bool) -> str:
    if markdown:
        def line(r: list[str]) -> str:
            return "| " + " | ".join(r) + " |"

        return "\n".join([line(header), line(["---"] * len(header)), *map(line, rows)])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def padded(r: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()

    return "\n".join([padded(header), padded(["-" * w for w in widths]), *map(padded, rows)])


def timing_rows(cases: dict[str, Case], n: int) -> list[list[str]]:
    floor_of = {"chain": "bare", "inject": "bare", "single": "bare", "group": "gather",
                "call": "to_thread", "sync-chain": "to_thread"}
    rows = []
    for key, case in cases.items():
        ratio = best_ratio = target = ""
        floor = cases.get(floor_of.get(key, ""))
        if floor is not None:
            paired = statistics.median(  # falyx / floor within each round: drift cancels
                a / b for a, b in zip(case.samples, floor.samples, strict=True))
            ratio = f"{paired:.1f}× {floor_of[key]}"
            best_ratio = f"{case.best(n) / floor.best(n):.1f}×"
            if key == "chain":
                ok = case.best(n) <= TARGET_CHAIN_US
                target = f"≤ {TARGET_CHAIN_US} µs/step: {verdict(ok)}"
            elif key == "group":
                ok = case.best(n) / floor.best(n) <= TARGET_GROUP_RATIO
                target = f"≤ {TARGET_GROUP_RATIO:g}× gather: {verdict(ok)}"
            elif key == "call":
                ok = paired <= TARGET_CALL_RATIO
                target = f"≤ {TARGET_CALL_RATIO:g}× to_thread (median): {verdict(ok)}"
        rows.append([case.label, f"{case.best(n):.3f}", f"{case.median(n):.3f}", ratio,
                     best_ratio, target])
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="steps per run (default 1000)")
    parser.add_argument("--rounds", type=int, default=120, help="timed rounds (default 120)")
    parser.add_argument("--warmup", type=int, default=5, help="warm-up rounds (default 5)")
    parser.add_argument("--sync-steps", type=int, default=200,
                        help="sync calls per run (default 200)")
    parser.add_argument("--sync-rounds", type=int, default=60,
                        help="timed rounds of the sync cases (default 60)")
    parser.add_argument("--quick", action="store_true", help="10 rounds, 1 warm-up")
    parser.add_argument("--markdown", action="store_true", help="tables as Markdown")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.warmup, args.sync_rounds = 10, 1, 10
    md = args.markdown
    began = time.perf_counter()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None

    print("falyx engine overhead (benchmarks/overhead.py)")
    print("\n".join(machine_info()))
    print(f"Timing   {args.steps:,} steps per run, {args.rounds} rounds (each case once per "
          f"round) after {args.warmup} warm-up; best / median of perf_counter; GC on; "
          f"a fresh ExecutionRegistry(limit={LIMIT:,}) per falyx case")
    if load is not None:
        print(f"Load     {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min) at start")
    print()

    cases = asyncio.run(time_cases(args.steps, args.rounds, args.warmup))
    print(table(timing_rows(cases, args.steps),
                ["case", "best µs/step", "median µs/step", "ratio (median)", "ratio (best)",
                 "target (judged on best)"], md))
    print("\nµs/step = run time / steps (a chain's or group's own lifecycle is amortised in it);"
          "\nratio (median) = median over rounds of falyx time / floor time in the same round;"
          "\ntargets are judged on best-of-N, the figure least disturbed by a noisy machine.")

    sync = asyncio.run(time_cases(args.sync_steps, args.sync_rounds, args.warmup,
                                  build_sync_cases))
    print(f"\nSync steps: {args.sync_steps:,} calls per run, {args.sync_rounds} rounds")
    print(table(timing_rows(sync, args.sync_steps),
                ["case", "best µs/call", "median µs/call", "ratio (median)", "ratio (best)",
                 "target"], md))

    checkpoints = [LIMIT, 2 * LIMIT, 4 * LIMIT]
    mem_rows, flat_rows = [], []
    for label, make in (("chain-step records (999-step chain + the chain)", chain_run),
                        ("standalone Action records (each its own run)", single_run)):
        sizes, held = asyncio.run(retained_after(make, checkpoints))
        per_record = sizes[1] / held  # 20,000 recorded into a ring of 10,000
        growth = sizes[2] / sizes[0] - 1
        mem_rows.append([label, f"{per_record:.0f}",
                         f"≤ {TARGET_BYTES} B: {verdict(per_record <= TARGET_BYTES)}"])
        flat_rows.append(
            [label, *(f"{size / 1e6:.2f} MB" for size in sizes), f"{growth:+.2%}",
             f"flat (≤ +{FLAT_TOLERANCE:.0%}): {verdict(growth <= FLAT_TOLERANCE)}"])
    print()
    print(table(mem_rows, ["history record (tracemalloc; 20k recorded, limit 10k)",
                           "bytes/record", "target"], md))
    print()
    print(table(flat_rows, [f"retained memory, limit {LIMIT:,}", "after 10k", "after 20k",
                            "after 40k", "10k→40k", "target"], md))
    print(f"\n(total {time.perf_counter() - began:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
