"""The `falyx` console script (and `python -m falyx`).

`falyx FILE.py [ARGS]` runs the Falyx app defined in FILE; everything else (a config file's
CLI, `init`, `check`, `schema`) is `falyx.config.script`, imported only then.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from falyx.app import Falyx


def _fail(message: str) -> None:
    print(f"Error: {message}", file=sys.stderr)
    raise SystemExit(2)


def load_app(path: str) -> Falyx:
    """The one `Falyx` instance defined at the top level of the file at `path`."""
    file = Path(path)
    if not file.is_file():
        _fail(f"no such file: {path}")
    namespace = runpy.run_path(str(file), run_name="__falyx__")
    apps = [value for value in namespace.values() if isinstance(value, Falyx)]
    if len(apps) != 1:
        _fail(f"{path} defines {len(apps)} Falyx apps at top level; expected exactly one")
    app = apps[0]
    app.program = file.stem
    return app


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `falyx` console script."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0].endswith(".py"):
        load_app(argv[0])(argv[1:])
        return
    from falyx.config.script import main as script_main

    script_main(argv)


if __name__ == "__main__":
    main()
