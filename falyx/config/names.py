"""Keys and command-line names of a config's commands and submenus (DESIGN §2.13).

They are read from the file as written, not from the converted specs, so a problem in one
field of a command never hides a duplicate key, a reserved name or a key that a chain step
names: each entry claims whatever of its key, aliases and name is well formed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from falyx.app import BUILTIN_KEYS, RESERVED_NAMES
from falyx.config.problems import DocPath
from falyx.config.schema import is_cli_name, is_key
from falyx.naming import name_words

__all__ = ["SCRIPT_NAMES", "Entry", "NameTable", "read_entries", "reserved_message"]

#: Names the `falyx` script keeps for itself, on top of the CLI's own.
SCRIPT_NAMES = frozenset({"init", "check", "schema"})
_RESERVED = RESERVED_NAMES | SCRIPT_NAMES


@dataclass(slots=True)
class Entry:
    """A command or submenu of the file, as far as its key and names go."""

    path: DocPath  # ("commands", i) or ("submenus", i)
    key: str | None  # None: missing or malformed (reported by the schema check)
    written_key: str | None = None  # the key as written, even malformed
    aliases: list[tuple[DocPath, str]] = field(default_factory=list)
    name: str | None = None  # as written, when well formed
    name_written: bool = False
    description: str | None = None

    @property
    def is_command(self) -> bool:
        return self.path[0] == "commands"


def read_entries(data: Any, section: str) -> list[Entry]:
    """The entries of `commands` or `submenus` in the raw document `data`."""
    items = data.get(section) if isinstance(data, dict) else None
    return [_entry((section, i), item) for i, item in
            enumerate(items if isinstance(items, list) else ())]


def _entry(path: DocPath, item: Any) -> Entry:
    item = item if isinstance(item, dict) else {}
    key, name, aliases = item.get("key"), item.get("name"), item.get("aliases")
    description = item.get("description")
    return Entry(
        path, key if is_key(key) else None, key if isinstance(key, str) else None,
        [((*path, "aliases", j), a) for j, a in enumerate(aliases) if is_key(a)]
        if isinstance(aliases, list) and path[0] == "commands" else [],
        name if is_cli_name(name) else None, "name" in item,
        description if isinstance(description, str) else None)


def reserved_message(name: str) -> str:
    return (f"name '{name}' is reserved for falyx's own commands "
            f"({', '.join(sorted(_RESERVED))})")


class NameTable:
    """Claims each entry's key, aliases and name in file order, reporting every clash.

    `index` maps a command key or alias (upper case) to its command's index; `written` holds
    every command key as written, malformed or taken too (a step naming one is no unknown
    key); `names` holds the CLI name of each command (and of each submenu given `name:`);
    `clear` the paths of the entries whose key, aliases and name are all free.
    """

    def __init__(self, report: Callable[[DocPath, str], None],
                 path_text: Callable[[DocPath], str]) -> None:
        self.report, self.path_text = report, path_text
        self.index: dict[str, int] = {}
        self.submenu_keys: set[str] = set()
        self.written: set[str] = set()
        self.names: dict[DocPath, str] = {}
        self.clear: set[DocPath] = set()
        self._taken: dict[str, str] = {}  # CLI name -> where it is used

    def claim(self, entries: list[Entry]) -> None:
        for entry in entries:
            if entry.is_command and entry.written_key is not None:
                self.written.add(entry.written_key.upper())
            keys_free = self._claim_keys(entry) and entry.key is not None
            if self._claim_name(entry, keys_free) and keys_free:
                self.clear.add(entry.path)

    def _claim_keys(self, entry: Entry) -> bool:
        free = True
        keys = [((*entry.path, "key"), entry.key)] if entry.key is not None else []
        for where, key in [*keys, *entry.aliases]:
            upper = key.upper()
            if upper in BUILTIN_KEYS:
                self.report(where, f"key '{key}' is reserved for the menu's "
                                   f"{BUILTIN_KEYS[upper]}")
                free = False
            elif upper in self.index or upper in self.submenu_keys:
                first = self.index.get(upper)
                owner = f"commands[{first}]" if first is not None else "a submenu"
                self.report(where, f"duplicate key '{key}': {owner} already uses it "
                                   "(keys are case-insensitive)")
                free = False
            elif entry.is_command:
                self.index[upper] = entry.path[1]  # type: ignore[assignment]
            else:
                self.submenu_keys.add(upper)
        return free

    def _claim_name(self, entry: Entry, keys_free: bool) -> bool:
        if entry.name is not None:
            return self._take(entry, entry.name, (*entry.path, "name"))
        if entry.name_written:  # malformed: the schema check reported it
            return False
        if not entry.is_command:  # the Python rule, applied when the submenu is mounted
            return True
        if not keys_free:  # a name derived for an entry that cannot be registered
            return False
        words = name_words(entry.description or "")  # any script's letters; emoji dropped
        for name in words[:1] + ([entry.key.lower()] if entry.key else []):
            if name not in _RESERVED and name not in self._taken:
                return self._take(entry, name, entry.path)
        if entry.key is not None and entry.description is not None:
            self.report(entry.path, f"command name '{entry.key.lower()}' is reserved or "
                                    "taken; set 'name' to choose one")
        return False

    def _take(self, entry: Entry, name: str, where: DocPath) -> bool:
        if name in _RESERVED:
            self.report(where, reserved_message(name))
            return False
        if name in self._taken:
            self.report(where, f"name '{name}' is already used by {self._taken[name]}")
            return False
        self._taken[name] = self.path_text(entry.path)
        self.names[entry.path] = name
        return True
