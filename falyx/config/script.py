"""The `falyx` console script for config files (DESIGN §2.13).

    falyx [-c PATH] [GLOBAL OPTIONS] COMMAND ...   the CLI of the config found (§2.6)
    falyx init [DIR]                               write a starter falyx.yaml and tasks.py
    falyx check [PATH]                             validate a config; run nothing
    falyx schema                                   the JSON Schema of the format

(`falyx FILE.py ...` is handled by `falyx.__main__` before this module is imported.)
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from falyx.errors import UsageError

if TYPE_CHECKING:
    from falyx.app import Falyx

__all__ = ["USAGE", "main"]

_TRY = ("falyx help", "falyx run R -y", "falyx check")  # what `init` suggests
#: A config path given on the command line (or None), and where it was given.
_Option = tuple["str | None", str]

USAGE = """\
usage: falyx [-c PATH] [OPTIONS] COMMAND [ARGS]...   run a command of the config found
       falyx init [DIR]       write a starter falyx.yaml and tasks.py (never overwrites)
       falyx check [PATH]     validate a config without running anything
       falyx schema           print the JSON Schema of the config format
       falyx FILE.py [ARGS]   run the Falyx app defined in a Python file

The config is --config/-c PATH, else $FALYX_CONFIG, else the first falyx.yaml, falyx.yml,
falyx.toml or pyproject.toml with [tool.falyx] in this folder or a parent."""


def main(argv: list[str]) -> NoReturn:
    """Run the script with `argv` (without the program name); always ends with SystemExit."""
    explicit, rest = _config_option(argv)
    builtin = {"init": _init, "check": _check, "schema": _schema}.get(rest[0] if rest else "")
    try:
        if builtin is not None:
            raise SystemExit(builtin(explicit, rest[1:]))
        app = _load(explicit, rest)
    except UsageError as exc:  # ConfigFileError lines carry their own place: no prefix
        _fail(str(exc), prefix=not hasattr(exc, "problems"))
    app(rest)
    raise SystemExit(0)  # pragma: no cover - app() always exits


def _load(explicit: _Option, rest: list[str]) -> Falyx:
    from falyx.config.discovery import ConfigNotFound, find_config

    try:
        path = find_config(explicit[0], source=explicit[1])
    except ConfigNotFound:
        if rest[:1] in (["-h"], ["--help"]):
            print(USAGE)
            raise SystemExit(0) from None
        if rest[:1] == ["--version"]:
            from falyx import __version__

            print(f"falyx {__version__}")
            raise SystemExit(0) from None
        raise
    from falyx.config.build import load

    return load(path)


def _init(explicit: _Option, args: list[str]) -> int:
    from falyx.config.starter import write_starter

    if len(args) > 1:
        raise UsageError("usage: falyx init [DIR]")
    folder = Path(args[0] if args else ".")
    written = write_starter(folder)
    names = " and ".join(p.name for p in written)
    if folder.resolve() == Path.cwd().resolve():
        sys.stderr.write(f"Wrote {names}. Try: {', '.join(_TRY)}\n")
    else:  # the commands find the config from its folder
        sys.stderr.write(f"Wrote {names} in {folder}. Try: cd {shlex.quote(args[0])} && "
                         f"{_TRY[0]} (then, there: {', '.join(_TRY[1:])})\n")
    return 0


def _check(explicit: _Option, args: list[str]) -> int:
    from falyx.config.build import load
    from falyx.config.discovery import find_config

    if len(args) > 1:
        raise UsageError("usage: falyx check [PATH]")
    if args:
        explicit = (args[0], "the PATH argument of 'falyx check'")
    app = load(find_config(explicit[0], source=explicit[1]))
    text = f"OK: {_plural(len(app.commands), 'command')}"
    if app.submenus:
        inside = sum(len(sub.commands) for sub in _mounted(app))
        text += f", {_plural(len(app.submenus), 'submenu')} ({_plural(inside, 'command')})"
    print(text)
    return 0


def _mounted(app: Falyx) -> list[Falyx]:
    """Every app mounted below `app`, at any depth."""
    apps = [entry.app for entry in app.submenus.values()]
    return [deeper for sub in apps for deeper in (sub, *_mounted(sub))]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def _schema(explicit: _Option, args: list[str]) -> int:
    from falyx.config.schema import json_schema

    if args:
        raise UsageError("usage: falyx schema")
    print(json.dumps(json_schema(), indent=2))
    return 0


def _config_option(argv: list[str]) -> tuple[_Option, list[str]]:
    """Take `-c PATH` / `--config PATH` / `--config=PATH` from the global options: the path
    and the option as written (None, "--config" when absent), and the other words.

    Only the words before the command are looked at, so a command's own `-c` is untouched.
    The app's CLI does not know this option: the config must be read to build that CLI.
    """
    takes_value = {"--log-format", "--history"}
    rest = list(argv)
    i = 0
    while i < len(rest) and rest[i].startswith("-"):
        word = rest[i]
        if word in ("-c", "--config"):
            if i + 1 >= len(rest):
                _fail(f"{word} needs a PATH")
            value = rest[i + 1]
            del rest[i:i + 2]
            return (value, word), rest
        if word.startswith("--config="):
            del rest[i]
            return (word.partition("=")[2], "--config"), rest
        i += 2 if word in takes_value else 1
    return (None, "--config"), rest


def _fail(message: str, prefix: bool = True) -> NoReturn:
    sys.stderr.write((f"Error: {message}" if prefix else message) + "\n")
    raise SystemExit(2)
