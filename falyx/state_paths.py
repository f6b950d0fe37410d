"""Where falyx keeps its state files: the history database and the menu's prompt history.

Kept apart from `falyx.store` so that deciding *whether* there is a history file (`--history
off`, `FALYX_HISTORY=off`) does not load SQLite.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["resolve_history_path", "state_file"]


def resolve_history_path(program: str, override: str | None = None) -> Path | None:
    """`--history` (`override`), else `$FALYX_HISTORY`, else the XDG state dir; `off` is None."""
    choice = override if override else os.environ.get("FALYX_HISTORY", "").strip()
    if choice:
        return None if choice.lower() == "off" else Path(choice).expanduser()
    return state_file(program, ".db")


def state_file(program: str, suffix: str, folder: Path | None = None) -> Path:
    """`<folder>/<program><suffix>`, the program name made safe for a file name.

    `folder` defaults to `$XDG_STATE_HOME/falyx` (state dir default `~/.local/state`).
    """
    if folder is None:
        state = os.environ.get("XDG_STATE_HOME", "")
        base = Path(state) if os.path.isabs(state) else Path.home() / ".local" / "state"
        folder = base / "falyx"
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", program).strip("._-")[:100] or "falyx"
    return folder / f"{name}{suffix}"
