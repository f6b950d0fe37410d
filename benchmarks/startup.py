"""Cold start-up of the CLI against floors measured in the same run.

Median wall time and peak RSS over N cold starts of: `python -c pass`, a bare Typer app with
the same commands as examples/decorators.py, `decorators.py --help`, `decorators.py run N -y`
(a no-op command) against the bare app's `noop -y`, and the time for the menu of
examples/simple.py to show its prompt. Also `await app.run_key("N")` in-process.

    python benchmarks/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
DECORATORS = str(ROOT / "examples" / "decorators.py")
BARE = str(ROOT / "benchmarks" / "bare_typer_app.py")
SURFACE = str(ROOT / "benchmarks" / "bare_typer_surface.py")


def cold(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}")
    return elapsed, usage.ru_maxrss / 1024


def measure(argv: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    cold(argv, env)  # warm the file cache once
    samples = [cold(argv, env) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), max(s[1] for s in samples)


def menu_start(runs: int, env: dict[str, str]) -> float | None:
    """Median seconds from spawn to the menu's `>` prompt (needs pexpect)."""
    try:
        import pexpect
    except ImportError:
        return None
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        child = pexpect.spawn(PY, [str(ROOT / "examples" / "simple.py"), "--menu"], env=env,
                              dimensions=(40, 120), encoding="utf-8", timeout=20)
        child.expect(">")
        times.append(time.perf_counter() - start)
        child.sendline("X")
        child.expect(pexpect.EOF)
        child.close()
    return statistics.median(times)


def run_key_us(calls: int = 20_000) -> float:
    sys.path.insert(0, str(ROOT / "examples"))
    import decorators

    async def main() -> float:
        for _ in range(200):
            await decorators.app.run_key("N")
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(calls // 5):
                await decorators.app.run_key("N")
            best = min(best, (time.perf_counter() - start) / (calls // 5))
        return best * 1e6

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    # Installed packages ship bytecode (pip compiles at install), so compile falyx's too:
    # an editable install under PYTHONDONTWRITEBYTECODE=1 would recompile it at every start.
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "falyx")], check=True)
    state = tempfile.mkdtemp(prefix="falyx-bench-")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FALYX_HISTORY": "off",
           "XDG_STATE_HOME": state, "TERM": "xterm"}
    rows = [
        ("python -c pass", [PY, "-c", "pass"]),
        ("bare Typer --help", [PY, BARE, "--help"]),
        ("Typer, same surface --help", [PY, SURFACE, "--help"]),
        ("falyx --help", [PY, DECORATORS, "--help"]),
        ("bare Typer noop -y", [PY, BARE, "noop", "-y"]),
        ("Typer, same surface run N -y", [PY, SURFACE, "run", "N", "-y"]),
        ("falyx run N -y", [PY, DECORATORS, "run", "N", "-y"]),
        ("falyx run N -y (history on)", [PY, DECORATORS, "run", "N", "-y"]),
    ]
    results = {}
    for label, argv in rows:
        run_env = env if "history on" not in label else {
            **env, "FALYX_HISTORY": str(Path(state) / "bench.db")}
        results[label] = measure(argv, runs, run_env)
    print(f"Python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} cores; median of {runs} cold starts")
    print(f"{'command':34} {'median ms':>10} {'peak RSS MB':>12}")
    for label, (wall, rss) in results.items():
        print(f"{label:34} {wall * 1e3:10.1f} {rss:12.1f}")
    help_ratio = results["falyx --help"][0] / results["bare Typer --help"][0]
    run_ratio = results["falyx run N -y"][0] / results["bare Typer noop -y"][0]
    print(f"\nfalyx --help / bare Typer --help: {help_ratio:.2f}x  (target <= 1.15x)")
    print(f"falyx --help peak RSS: {results['falyx --help'][1]:.1f} MB  (target <= 35 MB)")
    print(f"falyx run N -y / bare Typer noop -y: {run_ratio:.2f}x  (target <= 1.3x)")
    surface_help = results["falyx --help"][0] / results["Typer, same surface --help"][0]
    surface_run = results["falyx run N -y"][0] / results["Typer, same surface run N -y"][0]
    print(f"against Typer with the same surface (asyncio.run, same options): --help "
          f"{surface_help:.2f}x, run N -y {surface_run:.2f}x")
    menu = menu_start(max(5, runs // 2), env)
    if menu is not None:
        print(f"menu prompt shown after {menu * 1e3:.1f} ms: "
              f"{menu / results['falyx --help'][0]:.2f}x falyx --help  (target <= 1.5x)")
    print(f"await app.run_key('N') in-process: {run_key_us():.1f} µs/call  (target <= 15 µs)")


if __name__ == "__main__":
    main()
