"""Start-up stays lean (DESIGN §1): what `import falyx`, `--help` and a no-op run load, checked
in fresh interpreters. Counts and absence only: timings are benchmarked, never tested."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, TYPER_029, subprocess_env

HEAVY = ["typer", "click", "rich", "questionary", "prompt_toolkit", "tenacity", "yaml", "dask",
         "msgspec", "pydantic"]
CONFIG_LIBRARIES = {"yaml", "msgspec", "pydantic"}
#: What a no-op run loads but `--help` must not: the event loop, the runner, the engine's
#: pools and processes, the history store, Typer 0.29's pydantic, and the engine's run-time
#: modules (records, run options, timeouts and rollback; issue 14: `falyx.deferred`).
RUN_ONLY = ["asyncio", "concurrent", "ssl", "socket", "sqlite3", "pydantic", "falyx.runner",
            "falyx.interrupts", "falyx.store", "falyx.action.process", "falyx.action.shell",
            "falyx.action.executors", "falyx.context", "falyx.history", "falyx.action.options",
            "falyx.action.scopes", "falyx.action.cancellation", "falyx.action.undo",
            "falyx.action.threads", "queue"]


def _modules(probe: str, history: str = "off") -> set[str]:
    """Every module executed after `probe` ran in a fresh interpreter: those in `sys.modules`
    less the deferred ones not used yet (`falyx.deferred`'s `_LazyModule`)."""
    code = (f"{probe}\nimport json, sys\n"
            "names = sorted(n for n, m in sys.modules.items()\n"
            "               if type(m).__name__ != '_LazyModule')\n"
            "sys.stderr.write('\\nMODULES ' + json.dumps(names) + '\\n')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=subprocess_env(FALYX_HISTORY=history), timeout=60)
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES "))
    return set(json.loads(line.removeprefix("MODULES ")))


def _script(path: str, *argv: str, history: str = "off") -> set[str]:
    """The modules loaded by running the script at `path` (relative to the repo) with ARGV."""
    return _modules(
        "import runpy, sys\n"
        f"sys.argv = [{path!r}, *{list(argv)!r}]\n"
        "try:\n"
        f"    runpy.run_path({str(ROOT / path)!r}, run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n",
        history,
    )


def _has(loaded: set[str], name: str) -> bool:
    """`name` or a submodule of it is loaded."""
    return name in loaded or any(m.startswith(name + ".") for m in loaded)


def _tops(loaded: set[str]) -> set[str]:
    return {m.split(".")[0] for m in loaded}


def test_import_falyx_pulls_in_no_heavy_library() -> None:
    loaded = _tops(_modules("import falyx, falyx.action"))
    assert "falyx" in loaded
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)


def test_import_falyx_loads_no_event_loop_pool_or_store() -> None:
    loaded = _modules("import falyx")
    assert [m for m in [*RUN_ONLY, "subprocess"] if _has(loaded, m)] == []


def test_the_config_package_loads_only_when_asked_for() -> None:
    probe = "import falyx, sys\nassert 'falyx.config' not in sys.modules\nimport falyx.config"
    loaded = _tops(_modules(probe))
    assert "msgspec" in loaded
    assert loaded.isdisjoint({"typer", "rich", "questionary", "prompt_toolkit", "pydantic"})


def test_process_and_shell_steps_load_on_first_use() -> None:
    loaded = _modules("import falyx\nfrom falyx import ShellAction, ProcessAction")
    assert _has(loaded, "falyx.action.shell") and _has(loaded, "falyx.action.process")


def test_help_loads_no_prompt_library_yaml_or_dask() -> None:
    loaded = _tops(_script("examples/decorators.py", "--help"))
    assert "typer" in loaded
    assert loaded.isdisjoint({"questionary", "prompt_toolkit", "dask", *CONFIG_LIBRARIES}), loaded


def test_help_loads_nothing_that_only_a_run_needs() -> None:
    loaded = _script("examples/decorators.py", "--help")
    assert "falyx.cli" in loaded
    assert [m for m in RUN_ONLY if _has(loaded, m)] == []


def test_help_loads_nothing_beyond_bare_typer_but_falyx_itself() -> None:
    """Against the bare Typer app with the same commands: the only other modules falyx's
    `--help` loads are falyx's own, `contextvars` (the CLI collects its job in one), and on
    Python 3.10 the ExceptionGroup backport."""
    bare = _script("benchmarks/bare_typer_app.py", "--help")
    extra = _script("examples/decorators.py", "--help") - bare
    falyx_modules = {m for m in extra if m.split(".")[0] == "falyx"}
    backport = {"exceptiongroup", "typing_extensions", "_socket"}  # what it imports on 3.10
    allowed = {"contextvars", "_contextvars"}
    assert _tops(extra - falyx_modules) <= allowed | (backport if sys.version_info < (3, 11)
                                                      else set())
    # + naming, stdout, durations, deferred: small, standard library only
    assert len(falyx_modules) <= 28, sorted(falyx_modules)


def test_a_quiet_headless_run_loads_neither_rich_nor_the_prompt_libraries() -> None:
    loaded = _tops(_script("examples/decorators.py", "run", "N", "-y"))
    assert "falyx" in loaded
    unwanted = {"rich", "questionary", "prompt_toolkit", "tenacity", *CONFIG_LIBRARIES}
    assert loaded.isdisjoint(unwanted), loaded & unwanted


@pytest.mark.parametrize("argv", [
    ["run", "N", "-y"],
    ["--log-format", "json", "--history", "off", "--executor", "thread", "run", "N", "-y",
     "--retries", "2", "--retry-delay", "0.5", "--retry-backoff", "1", "--json"],
    ["noop", "--summary", "-y"],
    ["history", "--limit", "5", "--status", "ok", "--name", "x"],
    ["preview", "R"],
    ["--version"],
], ids=["run", "global-and-run-options", "named", "history", "preview", "version"])
def test_falyx_own_options_never_load_pydantic(argv: list[str]) -> None:
    """Typer 0.29 converts with pydantic; falyx converts its own options itself."""
    assert not _has(_script("examples/decorators.py", *argv), "pydantic")


@pytest.mark.skipif(not TYPER_029, reason="Typer < 0.29 has no pydantic to load")
def test_a_users_parameter_is_converted_by_typer_with_pydantic() -> None:
    """The control for the test above: the probe does see Typer 0.29 load pydantic."""
    assert _has(_script("examples/decorators.py", "build", "--target", "x"), "pydantic")


def test_a_run_without_history_loads_neither_sqlite_nor_the_menu_parts(tmp_path) -> None:
    unwanted = ["sqlite3", "falyx.store", "falyx.history_row", "falyx.bottom_bar",
                "falyx.prompts", "falyx.menu"]
    without = _script("examples/decorators.py", "run", "N", "-y")
    with_history = _script("examples/decorators.py", "run", "N", "-y",
                           history=str(tmp_path / "h.db"))

    assert [m for m in unwanted if _has(without, m)] == []
    assert _has(with_history, "sqlite3") and _has(with_history, "falyx.store")
