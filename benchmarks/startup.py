"""Cold start-up of the CLI against floors measured in the same run.

Median wall time and peak RSS over N cold starts of: `python -c pass`, a bare Typer app with
the same commands as examples/decorators.py (`benchmarks/bare_typer_app.py`; its `noop -y`
runs `asyncio.run`), the same CLI surface hand-written in Typer
(`benchmarks/bare_typer_surface.py`), `decorators.py --help` and `decorators.py run N -y` (a
no-op command); then the time for the menu of examples/simple.py to show its prompt, and
`await app.run_key("N")` in-process. The cold starts are interleaved (each round runs every
row once, in turn), so load drift on a shared machine hits every row alike.

Config cases (DESIGN §2.13): `falyx --help` of a 50-command config against the same 50
commands written in Python, `falyx check` of a 500-command config, and the import cost of the
validation libraries (msgspec, pydantic) and PyYAML against `python -c pass`.

    python benchmarks/startup.py [--runs 15] [--config-only]

Run it with another venv's interpreter to measure another Typer (falyx is taken from this
checkout through PYTHONPATH): `.venv-3.11-typer-0.28/bin/python benchmarks/startup.py`.
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


def measure(rows: dict[str, tuple[list[str], dict[str, str]]],
            runs: int) -> dict[str, tuple[float, float]]:
    """Median wall seconds and peak RSS of each row, sampled round-robin."""
    for argv, env in rows.values():
        cold(argv, env)  # warm the file cache once
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label in rows}
    for _ in range(runs):
        for label, (argv, env) in rows.items():
            samples[label].append(cold(argv, env))
    return {label: (statistics.median(s[0] for s in got), max(s[1] for s in got))
            for label, got in samples.items()}


def typer_version() -> str:
    out = subprocess.run([PY, "-c", "import importlib.metadata as m; print(m.version('typer'))"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


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
    parser.add_argument("--config-only", action="store_true", help="only the config cases")
    options = parser.parse_args()
    runs = options.runs
    # Installed packages ship bytecode (pip compiles at install), so compile falyx's too:
    # an editable install under PYTHONDONTWRITEBYTECODE=1 would recompile it at every start.
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "falyx")], check=True)
    state = tempfile.mkdtemp(prefix="falyx-bench-")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FALYX_HISTORY": "off",
           "XDG_STATE_HOME": state, "TERM": "xterm"}
    if not options.config_only:
        startup_cases(runs, env, state)
    config_cases(runs, env, Path(state))


def startup_cases(runs: int, env: dict[str, str], state: str) -> None:
    """The Python-defined app against bare Typer floors."""
    history_env = {**env, "FALYX_HISTORY": str(Path(state) / "bench.db")}
    rows = {
        "python -c pass": ([PY, "-c", "pass"], env),
        "bare Typer --help": ([PY, BARE, "--help"], env),
        "Typer, same surface --help": ([PY, SURFACE, "--help"], env),
        "falyx --help": ([PY, DECORATORS, "--help"], env),
        "bare Typer noop -y (asyncio.run)": ([PY, BARE, "noop", "-y"], env),
        "Typer, same surface run N -y": ([PY, SURFACE, "run", "N", "-y"], env),
        "falyx run N -y": ([PY, DECORATORS, "run", "N", "-y"], env),
        "falyx run N -y (history on)": ([PY, DECORATORS, "run", "N", "-y"], history_env),
    }
    results = measure(rows, runs)
    print(f"Python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} cores, Typer {typer_version()}; median of {runs} interleaved "
          "cold starts")
    print(f"{'command':34} {'median ms':>10} {'peak RSS MB':>12}")
    for label, (wall, rss) in results.items():
        print(f"{label:34} {wall * 1e3:10.1f} {rss:12.1f}")

    def ratio(row: str, floor: str) -> float:
        return results[row][0] / results[floor][0]

    print()
    print(f"falyx --help / bare Typer --help: "
          f"{ratio('falyx --help', 'bare Typer --help'):.2f}x  (target <= 1.15x)")
    print(f"falyx --help peak RSS: {results['falyx --help'][1]:.1f} MB  (target <= 28 MB)")
    print(f"falyx run N -y / same-surface Typer run N -y: "
          f"{ratio('falyx run N -y', 'Typer, same surface run N -y'):.2f}x  (target <= 1.2x)")
    print(f"falyx run N -y / bare Typer noop -y (asyncio.run): "
          f"{ratio('falyx run N -y', 'bare Typer noop -y (asyncio.run)'):.2f}x  "
          "(target <= 1.3x)")
    print(f"falyx --help / same-surface Typer --help: "
          f"{ratio('falyx --help', 'Typer, same surface --help'):.2f}x")
    menu = menu_start(max(5, runs // 2), env)
    if menu is not None:
        print(f"menu prompt shown after {menu * 1e3:.1f} ms: "
              f"{menu / results['falyx --help'][0]:.2f}x falyx --help  (target <= 1.5x)")
    print(f"await app.run_key('N') in-process: {run_key_us():.1f} µs/call  (target <= 15 µs)")


# -- config files (DESIGN §2.13) --------------------------------------------------------------
def _write_config_project(folder: Path, commands: int) -> None:
    """`bench_tasks.py`, `falyx.yaml` and `app.py`: the same commands as config and Python.

    Every fifth command is a chain of the two before it and every tenth a group, as a
    runbook mixes them; the rest are Python functions with two options each.
    """
    folder.mkdir(parents=True, exist_ok=True)
    functions = "".join(
        f"def task_{i}(target: str = 'prod', count: int = 1) -> str:\n"
        f"    return f'{{target}} {{count}}'\n\n\n" for i in range(commands))
    (folder / "bench_tasks.py").write_text(functions)
    yaml_lines = ["title: Bench", "commands:"]
    py_lines = ["from falyx import Falyx, chain, group", "from falyx.action import Action",
                "import bench_tasks as t", "", "app = Falyx('Bench', program='falyx')",
                "a = {}"]
    for i in range(commands):
        key, description = f"C{i}", f"Command {i}"
        if i % 10 == 9:
            yaml_lines.append(f"  - {{key: {key}, description: {description}, "
                              f"group: [bench_tasks:task_{i}, bench_tasks:task_{i - 1}]}}")
            py = f"group(Action('task_{i}', t.task_{i}), Action('task_{i - 1}', t.task_{i - 1}))"
        elif i % 5 == 4:
            yaml_lines.append(f"  - {{key: {key}, description: {description}, "
                              f"chain: [C{i - 2}, C{i - 1}]}}")
            py = f"chain(a['C{i - 2}'], a['C{i - 1}'])"
        else:
            yaml_lines.append(f"  - {{key: {key}, description: {description}, "
                              f"action: bench_tasks:task_{i}}}")
            py = f"Action('task_{i}', t.task_{i})"
        py_lines.append(f"a['{key}'] = {py}")
        py_lines.append(f"app.add_command('{key}', '{description}', a['{key}'], "
                        f"name='command-{i}')")
    py_lines += ["", "if __name__ == '__main__':", "    app()"]
    (folder / "falyx.yaml").write_text("\n".join(yaml_lines) + "\n")
    (folder / "app.py").write_text("\n".join(py_lines) + "\n")


def config_cases(runs: int, env: dict[str, str], state: Path) -> None:
    """Config start-up against the same app in Python, `check` of 500 commands, imports."""
    small, large = state / "config50", state / "config500"
    _write_config_project(small, 50)
    _write_config_project(large, 500)
    subprocess.run([PY, "-m", "compileall", "-q", str(small), str(large)], check=True)
    in_small = {**env, "PYTHONPATH": f"{ROOT}{os.pathsep}{small}"}
    rows = {
        "python -c pass": ([PY, "-c", "pass"], env),
        "import msgspec": ([PY, "-c", "import msgspec"], env),
        "import pydantic": ([PY, "-c", "import pydantic; pydantic.BaseModel"], env),
        "import yaml": ([PY, "-c", "import yaml"], env),
        # what a config app adds on top of what every falyx CLI loads anyway
        "import falyx.cli": ([PY, "-c", "import falyx.cli"], env),
        "import falyx.cli, msgspec": ([PY, "-c", "import falyx.cli, msgspec"], env),
        "import falyx.cli, pydantic": (
            [PY, "-c", "import falyx.cli, pydantic; pydantic.BaseModel"], env),
        "import falyx.cli, falyx.config": ([PY, "-c", "import falyx.cli, falyx.config"], env),
        "50 commands in Python: --help": ([PY, str(small / "app.py"), "--help"], in_small),
        "50 commands in falyx.yaml: --help": (
            [PY, "-m", "falyx", "-c", str(small / "falyx.yaml"), "--help"], env),
        "falyx check, 500 commands": (
            [PY, "-m", "falyx", "check", str(large / "falyx.yaml")], env),
    }
    if subprocess.run([PY, "-c", "import pydantic"], env=env, capture_output=True).returncode:
        rows = {k: v for k, v in rows.items() if "pydantic" not in k}  # not installed
    results = measure(rows, runs)
    print(f"\nConfig files: median of {runs} interleaved cold starts")
    print(f"{'command':40} {'median ms':>10} {'peak RSS MB':>12}")
    for label, (wall, rss) in results.items():
        print(f"{label:40} {wall * 1e3:10.1f} {rss:12.1f}")
    for base in ("python -c pass", "import falyx.cli"):
        floor = results[base][0]
        for label, (wall, _) in results.items():
            if label.startswith("import") and label != base and (
                    (base == "import falyx.cli") == label.startswith("import falyx.cli")):
                print(f"{label}: +{(wall - floor) * 1e3:.1f} ms over {base}")
    ratio = (results["50 commands in falyx.yaml: --help"][0]
             / results["50 commands in Python: --help"][0])
    print(f"falyx --help, 50-command config / same app in Python: {ratio:.2f}x  "
          "(target <= 1.2x)")
    check = results["falyx check, 500 commands"][0]
    print(f"falyx check of 500 commands: {check * 1e3:.0f} ms  (target <= 1000 ms)")


if __name__ == "__main__":
    main()
