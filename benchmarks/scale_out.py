"""Process steps against their floors, measured in the same run (issue 9, DESIGN §2.14).

1. Eight CPU-bound tasks of ~0.3 s on the local pool and on a Dask LocalCluster (2 workers):
   serial, bare `ProcessPoolExecutor.map`, `ProcessPoolAction`, `ProcessPoolAction` on Dask.
   Targets: falyx ≥ 1.8x serial and within 10% of the bare map; Dask ≥ 1.6x serial.
2. Per-task overhead of 200 tiny tasks: falyx ≤ 1.5x a bare pool; on Dask ≤ 1.5x bare
   `client.submit`.
3. Time from a timed-out process step to the CLI's exit: ≤ kill_grace + 0.5 s, for a task
   the interrupt stops and for one deaf to it (its worker is killed after kill_grace).

    python benchmarks/scale_out.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from falyx import ProcessPoolAction, ProcessTask  # noqa: E402
from falyx.action.pool import LocalProcessPool  # noqa: E402

WORKERS = 2


def burn(n: int) -> int:
    """CPU-bound: the primes below n by trial division."""
    return sum(1 for k in range(2, n) if all(k % d for d in range(2, int(k**0.5) + 1)))


def tiny(x: int) -> int:
    return x + 1


def calibrate(seconds: float = 0.3) -> int:
    n = 20_000
    while True:
        started = time.perf_counter()
        burn(n)
        took = time.perf_counter() - started
        if took >= seconds * 0.8:
            return int(n * seconds / took)
        n *= 2


def best(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def falyx_pool(executor, fn, args) -> list:
    step = ProcessPoolAction("bench", [ProcessTask(fn, (a,)) for a in args], executor=executor)
    return asyncio.run(step())


def throughput(rounds: int, cluster_address: str) -> None:
    from falyx.action.executors import resolve_executor

    n = calibrate()
    args = [n] * 8
    serial = best(lambda: [burn(a) for a in args], rounds)
    with ProcessPoolExecutor(WORKERS) as bare:
        list(bare.map(tiny, range(WORKERS * 2)))  # workers started before timing
        bare_map = best(lambda: list(bare.map(burn, args)), rounds)
        pool = LocalProcessPool(WORKERS)
        falyx_pool(pool, tiny, range(WORKERS * 2))
        falyx_local = best(lambda: falyx_pool(pool, burn, args), rounds)
        dask = resolve_executor(cluster_address)
        falyx_pool(dask, tiny, range(WORKERS * 2))
        falyx_dask = best(lambda: falyx_pool(dask, burn, args), rounds)

        tiny_args = list(range(200))
        bare_tiny = best(lambda: [f.result() for f in [bare.submit(tiny, a) for a in tiny_args]],
                         rounds * 3)
        falyx_tiny = best(lambda: falyx_pool(pool, tiny, tiny_args), rounds * 3)
        client = dask.client  # type: ignore[attr-defined]
        dask_bare = best(lambda: client.gather(
            [client.submit(tiny, a, pure=False) for a in tiny_args]), rounds * 3)
        dask_tiny = best(lambda: falyx_pool(dask, tiny, tiny_args), rounds * 3)
        pool.shutdown()

    print(f"8 tasks of ~0.3 s (burn({n})), {WORKERS} workers, best of {rounds}")
    print(f"  serial                      {serial:7.3f} s")
    print(f"  bare ProcessPoolExecutor    {bare_map:7.3f} s  {serial / bare_map:4.2f}x serial")
    print(f"  ProcessPoolAction (process) {falyx_local:7.3f} s  {serial / falyx_local:4.2f}x "
          f"serial (target >= 1.8x); {falyx_local / bare_map:4.2f}x bare (target <= 1.10x)")
    print(f"  ProcessPoolAction (Dask)    {falyx_dask:7.3f} s  {serial / falyx_dask:4.2f}x "
          "serial (target >= 1.6x)")
    print("200 tiny tasks")
    print(f"  bare pool submit   {bare_tiny * 1e6 / 200:8.1f} us/task")
    print(f"  falyx (process)    {falyx_tiny * 1e6 / 200:8.1f} us/task  "
          f"{falyx_tiny / bare_tiny:4.2f}x bare (target <= 1.5x)")
    print(f"  bare client.submit {dask_bare * 1e6 / 200:8.1f} us/task")
    print(f"  falyx (Dask)       {dask_tiny * 1e6 / 200:8.1f} us/task  "
          f"{dask_tiny / dask_bare:4.2f}x bare (target <= 1.5x)")


APP = """
import os, signal, time
from pathlib import Path
from falyx import Falyx
from falyx.action import ProcessAction

app = Falyx("bench")
MARK = os.environ["BENCH_MARK"]


def spin(deaf):
    if deaf:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    Path(MARK).write_text(repr(time.time()))
    while True:
        pass


for key, deaf in (("S", False), ("D", True)):
    app.add_command(key, key, ProcessAction(f"spin{key}", spin, args=(deaf,), timeout=1.0,
                                            kill_grace=1.0))

if __name__ == "__main__":
    app()
"""


def time_to_exit(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        script, mark = Path(folder) / "bench_app.py", Path(folder) / "mark"
        script.write_text(APP)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "FALYX_HISTORY": "off",
               "BENCH_MARK": str(mark)}
        print("time from a timed-out process step (timeout 1 s, kill_grace 1 s) to exit")
        for key, label in (("S", "interruptible task"), ("D", "task deaf to the interrupt")):
            figures = []
            for _ in range(rounds):
                mark.unlink(missing_ok=True)
                subprocess.run([sys.executable, str(script), "run", key],
                               env=env, capture_output=True, timeout=60)
                exited = time.time()
                figures.append(exited - (float(mark.read_text()) + 1.0))
            print(f"  {label:28s} median {statistics.median(figures):5.2f} s  "
                  f"max {max(figures):5.2f} s (target <= kill_grace + 0.5 = 1.5 s)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    from distributed import LocalCluster

    with LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        throughput(rounds, cluster.scheduler_address)
        from falyx.action.executors import shutdown_executors

        shutdown_executors()
    time_to_exit(rounds)


if __name__ == "__main__":
    main()
