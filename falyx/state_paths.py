"""Where falyx keeps its state files: the history database and the menu's prompt history.

Kept apart from `falyx.store` so that deciding *whether* there is a history file (`--history
off`, `FALYX_HISTORY=off`) does not load SQLite.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["MissingFolder", "make_private_folder", "resolve_history_path", "state_dir",
           "state_file"]


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
    folder = state_dir() if folder is None else folder
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", program).strip("._-")[:100] or "falyx"
    return folder / f"{name}{suffix}"


def state_dir() -> Path:
    """falyx's own state folder: `$XDG_STATE_HOME/falyx` (state dir default `~/.local/state`)."""
    state = os.environ.get("XDG_STATE_HOME", "")
    base = Path(state) if os.path.isabs(state) else Path.home() / ".local" / "state"
    return base / "falyx"


class MissingFolder(FileNotFoundError):
    """A state file's folder is missing and is not one falyx may create."""


def make_private_folder(folder: Path) -> None:
    """Make sure `folder` exists, creating it (0700) only when it is falyx's state dir or inside
    it (DESIGN §2.8); an existing folder is left as it is.

    A folder anywhere else is the user's to make: `--history /nonexistent/dir/x.db` (a typo)
    never creates directory trees.

    Raises:
        MissingFolder: `folder` does not exist and is outside the state dir.
        OSError: creating it failed.
    """
    if folder.is_dir() or os.path.lexists(folder):  # not a folder: opening says why
        return
    own = state_dir()
    if folder.absolute() != own.absolute() and own.absolute() not in folder.absolute().parents:
        raise MissingFolder(f"folder {folder} does not exist")
    try:
        folder.mkdir(parents=True, mode=0o700)
    except FileExistsError:
        return
    os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
