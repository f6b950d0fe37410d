"""`python -m falyx FILE [ARGS]` (or `falyx FILE ...`): run the Falyx app defined in FILE."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from falyx import __version__
from falyx.app import Falyx

USAGE = (
    "usage: falyx FILE [ARGS]...  run the Falyx app defined in FILE (e.g. falyx app.py --help)"
)


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
    app.prog_name = app.prog_name or f"falyx {path}"  # usage lines: `falyx app.py run ...`
    return app


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `falyx` console script."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        raise SystemExit(0 if argv else 2)
    if argv[0] == "--version":
        print(f"falyx {__version__}")
        raise SystemExit(0)
    load_app(argv[0])(argv[1:])


if __name__ == "__main__":
    main()
