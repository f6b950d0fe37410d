"""Heavy libraries stay out of `import falyx`; checked in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import subprocess_env

HEAVY = ["typer", "click", "rich", "questionary", "prompt_toolkit", "tenacity", "yaml", "dask",
         "msgspec", "pydantic"]
CONFIG_LIBRARIES = {"yaml", "msgspec", "pydantic"}


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True,
        env=subprocess_env(),
    ).stdout
    return {m.split(".")[0] for m in json.loads(out.splitlines()[-1])}


def test_import_falyx_pulls_in_no_heavy_library() -> None:
    loaded = _loaded_after("import falyx, falyx.action")
    assert "falyx" in loaded
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)


def test_the_config_package_loads_only_when_asked_for() -> None:
    probe = "import falyx, sys\nassert 'falyx.config' not in sys.modules\nimport falyx.config"
    loaded = _loaded_after(probe)
    assert "msgspec" in loaded
    assert loaded.isdisjoint({"typer", "rich", "questionary", "prompt_toolkit", "pydantic"})


def _loaded_by_cli(*argv: str) -> set[str]:
    """Top-level modules loaded by `examples/decorators.py ARGV`, in a fresh interpreter."""
    from tests.conftest import ROOT

    probe = (
        "import json, runpy, sys\n"
        f"sys.argv = ['decorators.py', *{list(argv)!r}]\n"
        "try:\n"
        f"    runpy.run_path({str(ROOT / 'examples' / 'decorators.py')!r}, run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write('\\nMODULES ' + json.dumps(sorted(sys.modules)) + '\\n')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=subprocess_env(FALYX_HISTORY="off"), timeout=60)
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES "))
    return {m.split(".")[0] for m in json.loads(line.removeprefix("MODULES "))}


def test_help_loads_no_prompt_library_yaml_or_dask() -> None:
    loaded = _loaded_by_cli("--help")
    assert "typer" in loaded
    assert loaded.isdisjoint({"questionary", "prompt_toolkit", "dask", *CONFIG_LIBRARIES}), loaded


def test_a_quiet_headless_run_loads_neither_rich_nor_the_prompt_libraries() -> None:
    loaded = _loaded_by_cli("run", "N", "-y")
    assert "falyx" in loaded
    unwanted = {"rich", "questionary", "prompt_toolkit", "tenacity", *CONFIG_LIBRARIES}
    assert loaded.isdisjoint(unwanted), loaded & unwanted
