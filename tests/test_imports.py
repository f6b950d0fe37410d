"""Heavy libraries stay out of `import falyx`; checked in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import subprocess_env

HEAVY = ["typer", "click", "rich", "questionary", "prompt_toolkit", "tenacity", "yaml", "dask"]


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
