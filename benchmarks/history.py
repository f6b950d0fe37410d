"""History store costs: persisting a run, bulk throughput, queries on 100,000 rows, size.

Run: `.venv/bin/python benchmarks/history.py`. Every figure is compared with a floor measured
in the same run: the same rows written by bare `sqlite3` on an already-open connection.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from falyx.context import ExecutionContext
from falyx.history import ExecutionRegistry
from falyx.store import SQLiteHistoryStore
from falyx.store_schema import MIGRATIONS

STEPS = 100  # records per run
ROWS = 100_000
REPEATS = 50
_ids = itertools.count(1)


def make_run(number: int) -> list[ExecutionContext]:
    """One command run: a chain and its 99 steps, one failing in every 20th run."""
    run_id, now = f"run{number:08d}", time.time()
    top = ExecutionContext("pipeline", kind="ChainedAction", id=next(_ids), run_id=run_id,
                           command="deploy", start=now, end=now + 1, duration=1.0,
                           status="OK", attempts=1, result={"deployed": number})
    steps = []
    for i in range(STEPS - 1):
        ctx = ExecutionContext(f"step_{i}", id=next(_ids), parent=top, run_id=run_id,
                               command="deploy", start=now, end=now + 0.01, duration=0.01,
                               status="OK", attempts=1, result={"step": i, "rows": [1, 2, 3]})
        if number % 20 == 0 and i == STEPS - 2:
            ctx.fail(_raised(ValueError(f"step {i} failed in run {number}")))
            top.fail(ctx.exception)  # type: ignore[arg-type]
        steps.append(ctx)
    return [*steps, top]


def _raised(exc: Exception) -> Exception:
    try:
        raise exc
    except Exception as caught:
        return caught


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    """Seconds per call, `repeats` calls."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:.2f} ms"


def floor_writer(path: Path) -> Callable[[list[ExecutionContext]], None]:
    """The floor: the same rows by bare sqlite3, connection already open, no mapping."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    MIGRATIONS[0](conn)

    def write(records: list[ExecutionContext]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO history (run_id, program, name, kind, status, result) "
            "VALUES (?, 'bench', ?, ?, ?, ?)",
            [(c.run_id, c.name, c.kind, c.status, repr(c.result)) for c in records])
        conn.execute("COMMIT")

    write.close = conn.close  # type: ignore[attr-defined]
    return write


def main() -> None:
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        runs = [make_run(n) for n in range(ROWS // STEPS + 2 * REPEATS)]

        floor = floor_writer(folder / "floor.db")
        sample = iter(runs)
        floor_times = timed(lambda: floor(next(sample)), REPEATS)
        floor.close()  # type: ignore[attr-defined]
        store = SQLiteHistoryStore(folder / "small.db", "bench")
        sample = iter(runs)
        store_times = timed(lambda: store.write_run(next(sample)), REPEATS)
        rows.append(("persist one 100-step run (median)", ms(store_times),
                     f"bare sqlite3: {ms(floor_times)}"))

        def through_writer() -> None:  # what a run pays: record, hand-off to the thread, wait
            registry = ExecutionRegistry(store=store)
            for ctx in next(sample):
                registry.record(ctx)
            registry.flush()

        rows.append(("same, via the registry's writer thread", ms(timed(through_writer, REPEATS)),
                     "record() -> written, median"))
        store.close()

        def one_invocation() -> None:  # what a CLI process pays: open, check, write, close
            with SQLiteHistoryStore(folder / "small.db", "bench") as fresh:
                fresh.write_run(next(sample))

        rows.append(("new process: open + write run + close", ms(timed(one_invocation, 20)),
                     "close checkpoints the WAL (fsync)"))

        big = SQLiteHistoryStore(folder / "big.db", "bench", max_rows=ROWS)
        started = time.perf_counter()
        for run in runs[: ROWS // STEPS]:
            big.write_run(run)
        bulk = time.perf_counter() - started
        rows.append(("bulk: 1,000 runs x 100 records", f"{ROWS / bulk:,.0f} records/s",
                     f"{bulk:.2f} s total"))
        assert big.count() == ROWS and big.enabled, big

        extra = iter(runs[ROWS // STEPS + REPEATS:])
        rows.append(("persist one run on a full file (prunes)",
                     ms(timed(lambda: big.write_run(next(extra)), REPEATS)),
                     f"rows kept: {big.count():,}"))
        for label, call in [
            ("query(limit=50)", lambda: big.query(limit=50)),
            ("query(status='error', limit=50)", lambda: big.query(status="error")),
            ("query(name='step_7', limit=50)", lambda: big.query(name="step_7")),
            ("query(command='DEPLOY', limit=50)", lambda: big.query(command="DEPLOY")),
            ("query(kind='rollback', limit=50)  [none]", lambda: big.query(kind="rollback")),
            ("query(since=1h ago, limit=50)", lambda: big.query(since=time.time() - 3600)),
            ("query(since=future, limit=50)  [none]", lambda: big.query(since=time.time() + 9e9)),
            ("run_ids('run0000')  [prefix]", lambda: big.run_ids("run0000")),
            ("last()", big.last),
            ("run_tree(run_id)  [100 rows]", lambda: big.run_tree("run00000500")),
            ("count()", big.count),
        ]:
            rows.append((f"{label} on {ROWS:,} rows", ms(timed(call, 200)), "median of 200"))
        assert len(big.query(limit=50)) == 50

        rows.append(migration_row(folder / "v1.db"))
        big.close()  # checkpoints the WAL into the file
        size = os.path.getsize(big.path)
        with closing(sqlite3.connect(big.path)) as conn:
            stored = conn.execute("SELECT count(*) FROM history").fetchone()[0]
        rows.append(("file size per record", f"{size / stored:,.0f} bytes",
                     f"{size / 2**20:.1f} MiB for {stored:,} rows"))
        rows.extend(cli_rows(big.path, folder))
    _print_table(rows)


def migration_row(path: Path) -> tuple[str, str, str]:
    """Opening a 100,000-row file of schema 1 (results as reprs) migrates it."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        MIGRATIONS[0](conn)
        conn.execute("INSERT INTO schema_version VALUES (1)")
        with conn:
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO history (run_id, program, name, kind, status, result) "
                "VALUES ('r', 'bench', 'step', 'Action', 'OK', ?)",
                ((repr({"step": i, "rows": [1, 2, 3]}),) for i in range(ROWS)))
    started = time.perf_counter()
    with SQLiteHistoryStore(path, "bench", max_rows=ROWS) as store:
        assert store.count() == ROWS and store.query(limit=1)[0].result_format == "json"
    return ("open a 100,000-row schema-1 file (migrates)",
            f"{(time.perf_counter() - started) * 1000:.0f} ms", "schema change + kind index")


def cli_rows(db: Path, state: Path, runs: int = 11) -> list[tuple[str, str, str]]:
    """`history --limit 50` on the 100k-row file against `--help` of the same app, cold."""
    import subprocess

    app = str(Path(__file__).resolve().parent.parent / "examples" / "decorators.py")
    env = {**os.environ, "XDG_STATE_HOME": str(state), "FALYX_HISTORY": str(db),
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}

    def cold(*args: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, app, *args], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - started

    package = str(Path(app).parent.parent / "falyx")  # installed packages ship bytecode;
    subprocess.run([sys.executable, "-m", "compileall", "-q", package], check=True)  # compile
    cold("--help"), cold("history", "--limit", "50")  # warm the file cache
    help_times, history_times = [], []
    for _ in range(runs):  # interleaved, so both see the same machine
        help_times.append(cold("--help"))
        history_times.append(cold("history", "--limit", "50"))
    ratio = statistics.median(history_times) / statistics.median(help_times)
    return [
        ("CLI: decorators.py --help (cold)", ms(help_times), f"median of {runs}"),
        (f"CLI: history --limit 50 on {ROWS:,} rows (cold)", ms(history_times),
         f"{ratio:.2f}x --help (target <= 1.2x)"),
    ]


def _print_table(rows: list[tuple[str, str, str]]) -> None:
    widths = [max(len(r[i]) for r in [("measure", "value", "note"), *rows]) for i in range(3)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(f"falyx history store (sqlite {sqlite3.sqlite_version}, Python "
          f"{sys.version.split()[0]})")
    print(line.format("measure", "value", "note"))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))


if __name__ == "__main__":
    main()
