"""Finding the config file: `--config/-c`, `$FALYX_CONFIG`, then this folder and its parents."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from falyx.errors import ConfigError

__all__ = ["CANDIDATES", "ConfigNotFound", "find_config"]

#: Looked for in each folder, in this order.
CANDIDATES = ("falyx.yaml", "falyx.yml", "falyx.toml", "pyproject.toml")
_TOOL_TABLE = re.compile(r"^\s*\[\[?\s*tool\.falyx\s*[.\]]", re.M)


class ConfigNotFound(ConfigError):
    """No config file where the `falyx` script looked (exit 2)."""


def find_config(
    explicit: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    source: str = "--config",
) -> Path:
    """The config file to use.

    `explicit` wins, then `$FALYX_CONFIG`; either may name a file or a folder (searched
    alone). Otherwise the current folder and each parent in turn. `source` says where
    `explicit` came from (`--config`, `-c`, `the PATH argument of 'falyx check'`), for
    the message when it names nothing.

    Raises:
        ConfigNotFound: nothing found; the message says where it looked, and where a path
            that names nothing came from.
    """
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    chosen = explicit or env.get("FALYX_CONFIG") or None
    if chosen is not None:
        path = cwd / Path(chosen).expanduser()
        source = source if explicit else "$FALYX_CONFIG"
        if path.is_file():
            return path
        if path.is_dir():
            found = _in_folder(path)
            if found is not None:
                return found
            raise ConfigNotFound(f"no falyx config in {path} (from {source}): looked for "
                                 f"{_looked_for()}; create one with 'falyx init {chosen}'")
        raise ConfigNotFound(f"no such config file: {chosen} (from {source})")
    for folder in (cwd, *cwd.parents):
        found = _in_folder(folder)
        if found is not None:
            return found
    raise ConfigNotFound(f"no falyx config found: looked for {_looked_for()} in {cwd} and each "
                         "parent folder; create one with 'falyx init' (or pass -c PATH)")


def _in_folder(folder: Path) -> Path | None:
    for name in CANDIDATES:
        path = folder / name
        if path.is_file() and (name != "pyproject.toml" or _has_tool_table(path)):
            return path
    return None


def _has_tool_table(path: Path) -> bool:
    try:
        return bool(_TOOL_TABLE.search(path.read_text(encoding="utf-8", errors="replace")))
    except OSError:
        return False


def _looked_for() -> str:
    return "falyx.yaml, falyx.yml, falyx.toml or a pyproject.toml with [tool.falyx]"
