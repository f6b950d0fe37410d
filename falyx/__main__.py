"""The `falyx` console script (and `python -m falyx`).

`falyx FILE.py [ARGS]` runs the Falyx app defined in FILE; everything else (a config file's
CLI, `init`, `check`, `schema`) is `falyx.config.script`, imported only then.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from falyx.app import Falyx
from falyx.errors import UsageError
from falyx.stdout import closed_pipe_exit


def _fail(message: str) -> None:
    print(f"Error: {message}", file=sys.stderr)
    raise SystemExit(2)


def load_app(path: str) -> Falyx:
    """The one `Falyx` instance defined at the top level of the file at `path` (other apps
    there mounted as its submenus do not count).

    The file is imported as a module named after it, with its folder on `sys.path`, so
    worker processes can import the functions its process steps send them. A file that starts
    its app when imported (no main guard) is one error line and exit 2.
    """
    file = Path(path)
    if not file.is_file():
        _fail(f"no such file: {path}")
    from falyx.cli.entry import loading

    try:
        with loading(file.resolve()):
            namespace = vars(_import_file(file.resolve()))
    except UsageError as exc:  # the file starts its app when imported
        _fail(str(exc))
    # apps mounted as another's submenus are part of that one
    apps = [value for value in namespace.values() if isinstance(value, Falyx) and not value.mount]
    if len(apps) != 1:
        _fail(f"{path} defines {len(apps)} Falyx apps at top level (not counting submenus); "
              "expected exactly one")
    app = apps[0]
    app.program = file.stem
    app.prog_name = app.prog_name or f"falyx {path}"  # usage lines: `falyx app.py run ...`
    return app


def _import_file(file: Path) -> object:
    name = file.stem
    loaded = sys.modules.get(name)
    if loaded is not None:
        if Path(getattr(loaded, "__file__", "") or "").resolve() == file:
            return loaded
        _fail(f"{file.name} cannot be imported as module '{name}': that name is taken "
              f"(by {getattr(loaded, '__file__', None) or 'a built-in module'}); rename the file")
    if not name.isidentifier():
        _fail(f"{file.name}: the file name must be a Python identifier (it is imported as a "
              "module so process steps can find its functions)")
    folder = str(file.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    except BaseException:
        del sys.modules[name]  # as `import` does: a failed module is not left half-made
        raise
    return module


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `falyx` console script."""
    argv = sys.argv[1:] if argv is None else argv
    with closed_pipe_exit():  # `falyx schema | head -c 200`: exit 1, no traceback
        if argv and argv[0].endswith(".py"):
            load_app(argv[0])(argv[1:])
            return
        from falyx.config.script import main as script_main

        script_main(argv)


if __name__ == "__main__":
    main()
