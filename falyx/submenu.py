"""`Submenu`: a whole `Falyx` app mounted under a key of another (DESIGN §2.12).

A mounted app keeps its own commands, title and submenus; its runs record into the root
app's registry under a dotted label (`O.R`, deeper `O.D.R`), which is also an address:
`app.get("O.R")`, `run O.R`, `history --command O.R`. In its menu `B` goes back, so a mounted
app may not use `B` as a key or alias (`RegistrationError` at mount time, or when registered
later).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from falyx.action.base import PreviewNode
from falyx.errors import CommandNotFound, RegistrationError

if TYPE_CHECKING:
    from falyx.app import Falyx
    from falyx.command import Command
    from falyx.hooks import HookManager

__all__ = [
    "BACK", "BACK_KEY", "BUILTIN_KEYS", "CLI_HELP_HINT", "RESERVED_NAMES", "SEPARATOR",
    "Submenu", "app_hooks",
    "check_key", "check_mount", "command_label", "command_pattern", "find_command", "find_entry",
    "key_holder", "key_paths", "label_prefix", "mount_path", "name_holder", "new_submenu",
    "resolve_path", "subtree", "unknown_message",
]

#: The menu's built-in keys (in every app) and the CLI's built-in command names.
BUILTIN_KEYS = {"H": "Help", "Y": "History", "X": "Exit"}
RESERVED_NAMES = {"run", "run-all", "preview", "history", "help"}
#: In a mounted app's menu, `B` goes back to its parent's.
BACK_KEY = "B"
#: Where an unknown command's message sends the user: the CLI's `help` (the menu: its `H`).
CLI_HELP_HINT = "see 'help' for commands"
BACK = "Back"
#: Joins the keys of a path: `O.R` is command R of the app mounted under O.
SEPARATOR = "."


@dataclass(eq=False, slots=True)
class Submenu:
    """An entry of `parent` that opens `app`: in the menu under `key`, on the command line as
    the sub-group `cli_name`."""

    key: str
    description: str
    app: Falyx
    parent: Falyx
    cli_name: str
    tags: tuple[str, ...] = ()
    style: str = ""

    @property
    def label(self) -> str:
        """Its path of keys from the root app: `O`, or `O.D` for a submenu of a submenu."""
        return label_prefix(self.app)[: -len(SEPARATOR)]

    def preview(self) -> PreviewNode:
        """What the menu holds: each command's preview tree, then each submenu's, nested."""
        node = PreviewNode(f"Submenu: '{self.label}' — {self.description} "
                           f"(`{self.cli_name}`: {self.app.title})")
        node.children.extend(command.preview() for command in self.app.visible_commands())
        node.children.extend(sub.preview() for sub in self.app.submenus.values())
        return node

    def __repr__(self) -> str:
        return (f"Submenu(key={self.key!r}, description={self.description!r}, "
                f"name={self.cli_name!r})")


def mount_path(app: Falyx) -> list[Submenu]:
    """The submenus from the root app down to `app` (empty for an app that is not mounted)."""
    path: list[Submenu] = []
    mount = app.mount
    while mount is not None:
        path.append(mount)
        mount = mount.parent.mount
    return path[::-1]


def label_prefix(app: Falyx) -> str:
    """`O.` for an app mounted under O (`O.D.` deeper); `""` for a root app."""
    return "".join(m.key + SEPARATOR for m in mount_path(app))


def subtree(app: Falyx) -> Iterator[Falyx]:
    """`app` and every app mounted below it, depth first."""
    yield app
    for submenu in app.submenus.values():
        yield from subtree(submenu.app)


def resolve_path(app: Falyx, key: str, help_hint: str = CLI_HELP_HINT) -> Command | Submenu:
    """The command or submenu that `key` names from `app`: a key, alias or CLI name, or a
    path of them (`O.R`). Raises `CommandNotFound` with the path and a suggestion (else
    `help_hint`: where the commands are listed)."""
    words = key.strip().split(SEPARATOR)
    found: Command | Submenu | None = None
    for depth, word in enumerate(words):
        if depth:
            if not isinstance(found, Submenu):
                raise CommandNotFound(
                    f"'{SEPARATOR.join(words[:depth])}' is a command, not a menu")
            app = found.app
        found = find_entry(app, word)
        if found is None:
            raise CommandNotFound(unknown_message(app, word, SEPARATOR.join(words[:depth]),
                                                  help_hint))
    return found  # type: ignore[return-value]


def find_entry(app: Falyx, word: str) -> Command | Submenu | None:
    """`app`'s own command or submenu with this key, alias or CLI name (any case)."""
    wanted = word.upper()
    found = app.key_index.get(wanted)
    if found is not None:
        return found
    return next((e for e in _entries(app) if (e.cli_name or "").upper() == wanted), None)


def unknown_message(app: Falyx, key: str, prefix: str = "",
                    help_hint: str = CLI_HELP_HINT) -> str:
    """`unknown command 'RR'; did you mean 'R'?` (suggestions from `app`'s keys, aliases and
    names, its submenus' included); `prefix` is the path before `key` (`O`); without a
    suggestion, `help_hint` says where the commands are listed."""
    choices = {**{e.cli_name.upper(): e.cli_name for e in _entries(app) if e.cli_name},
               **{k: k for k in app.key_index}}  # a key wins over a name that looks alike
    close = difflib.get_close_matches(key.strip().upper(), list(choices), n=1, cutoff=0.5)
    path = prefix + SEPARATOR if prefix else ""
    if close:
        hint = f"; did you mean '{path}{choices[close[0]]}'?"
    elif prefix and app.mount is not None:  # 'help' would list the root's commands
        keys = [c.key for c in app.visible_commands()] + list(app.submenus)
        listed = f"its keys are {', '.join(keys)}" if keys else "it has no commands"
        hint = f"; {prefix} is the menu {app.mount.description!r}: {listed}"
    else:
        hint = f"; {help_hint}"
    return f"unknown command '{path}{key.strip()}'{hint}"


def key_holder(app: Falyx, key: str) -> str | None:
    """What answers to `key` (upper case) in `app`'s menu, described, or None: a command, a
    submenu, or a built-in (H, Y, X; B when `app` is mounted)."""
    if key in BUILTIN_KEYS:
        return f"the built-in {BUILTIN_KEYS[key]!r}"
    if key == BACK_KEY and app.mount is not None:
        return f"the built-in {BACK!r} (the app is mounted as submenu {app.mount.key!r})"
    return _describe(app.key_index.get(key))


def name_holder(app: Falyx, name: str | None) -> str | None:
    """What uses `name` on `app`'s command line, described, or None."""
    if name in RESERVED_NAMES:
        return f"the built-in command {name!r}"
    return _describe(next((e for e in _entries(app) if e.cli_name == name), None))


def _entries(app: Falyx) -> list[Command | Submenu]:
    return [*app.commands.values(), *app.submenus.values()]


def _describe(entry: Command | Submenu | None) -> str | None:
    if entry is None:
        return None
    kind = "submenu" if isinstance(entry, Submenu) else "command"
    return f"{kind} {entry.key!r} ({entry.description})"


def command_pattern(app: Falyx, text: str | None) -> str | None:
    """What `history --command TEXT` asks for, seen from `app` (DESIGN §2.8, §2.12).

    TEXT is read from `app`: a key, alias, name or path (`O.R`) becomes that command's label
    (`O.R` as recorded; `R` in the app mounted under O is `O.R` too), a submenu becomes `O.*`
    (every run of its commands); anything else is taken as a label, upper case (`*` matches
    any text). Without TEXT: every run of `app`'s tree (`O.*`), or None for a root app.
    """
    prefix = label_prefix(app)
    if text is None or not text.strip():
        return prefix + "*" if prefix else None
    try:
        found = resolve_path(app, text)
    except CommandNotFound:
        wanted = text.strip().upper()
        return wanted if wanted.startswith(prefix) else prefix + wanted
    if isinstance(found, Submenu):
        return label_prefix(found.app) + "*"
    return command_label(app, found)


def command_label(app: Falyx, command: Command) -> str:
    """`command`'s path of keys from the root app (`O.R`; `R` for a root app's own), found
    from `app`: what its runs are recorded as, and what `run` takes from the root."""
    path = find_command(app, command)
    return label_prefix(path[-1].app if path else app) + command.key


def key_paths(app: Falyx, *, menus: bool = False) -> list[str]:
    """What `run` (with `menus`, `preview`) accepts from `app`, for completion: the keys and
    aliases of its visible commands, then each submenu's (its key too, with `menus`) as paths
    (`O.R`, `O.D.V`)."""
    keys = [k for c in app.visible_commands() for k in (c.key, *c.aliases)]
    for key, submenu in app.submenus.items():
        below = key_paths(submenu.app, menus=menus)
        keys += [key] * menus + [key + SEPARATOR + k for k in below]
    return keys


def app_hooks(app: Falyx) -> HookManager:
    """The app-wide hooks a command of `app` runs with: its app's, then each parent's."""
    hooks, mount = app.hooks, app.mount
    while mount is not None:
        hooks, mount = hooks.merged(mount.parent.hooks), mount.parent.mount
    return hooks


def find_command(app: Falyx, command: Command) -> list[Submenu] | None:
    """The submenus from `app` down to the app that registered `command` (`[]`: `app` did);
    None if no app of the tree holds it."""
    if app.commands.get(command.key) is command:
        return []
    for submenu in app.submenus.values():
        below = find_command(submenu.app, command)
        if below is not None:
            return [submenu, *below]
    return None


def new_submenu(
    parent: Falyx, key: str, description: str, child: Falyx, *, name: str | None,
    default_name: str, tags: Iterable[str] = (), style: str = "",
) -> Submenu:
    """The entry that mounts `child` under `key` of `parent` (not registered yet).

    `name` is the sub-group's name; without it, `default_name`, or `key` in lower case when
    that is not a word.

    Raises:
        ValueError: `key` or `name` is not a word (`-` allowed in a name, `.` in neither).
        RegistrationError: see `check_mount`.
    """
    if not isinstance(key, str) or not key.strip() or any(c.isspace() for c in key):
        raise ValueError(f"submenu key must be a non-empty word, got {key!r}")
    key = key.strip().upper()
    check_key(key)
    if name is not None and not _is_word(name):
        raise ValueError(f"submenu {key!r}: name must be one word (letters, digits, - and _), "
                         f"got {name!r}")
    name = name or (default_name if _is_word(default_name) else key.lower())
    check_mount(parent, key, child, name)
    return Submenu(key, description, child, parent, name, tuple(tags), style)


def check_key(key: str) -> None:
    """Refuse a key or alias with a `.`: it separates the keys of a path (`O.R`)."""
    if SEPARATOR in key:
        raise RegistrationError(f"key {key!r}: '{SEPARATOR}' separates the keys of a submenu "
                                f"path ('O{SEPARATOR}R'); choose a key without it")


def _is_word(name: str) -> bool:
    return name.replace("-", "_").isidentifier()


def check_mount(parent: Falyx, key: str, child: Falyx, cli_name: str) -> None:
    """Refuse a mount that would loop or clash.

    Raises:
        RegistrationError: mounting would make a cycle (naming it); `child` is already
            mounted somewhere; `key` or `cli_name` is taken in `parent` (naming what holds
            it); `child` uses `B`, the key that goes back in its menu.
    """
    cycle = _cycle(parent, child)
    if cycle:
        raise RegistrationError(
            f"cannot mount {child.title!r} under {key!r} of {parent.title!r}: it would contain "
            f"itself ({' > '.join(map(repr, cycle))})")
    if child.mount is not None:
        raise RegistrationError(
            f"{child.title!r} is already mounted under {child.mount.key!r} of "
            f"{child.mount.parent.title!r}; an app is mounted in one place")
    taken = key_holder(parent, key)
    if taken:
        raise RegistrationError(f"submenu key {key!r} is already used by {taken}")
    name_taken = name_holder(parent, cli_name)
    if name_taken:
        raise RegistrationError(f"submenu name {cli_name!r} is already used by {name_taken}; "
                                "pass name= to choose another")
    holder = key_holder(child, BACK_KEY)
    if holder:
        raise RegistrationError(
            f"cannot mount {child.title!r} under {key!r}: in a submenu '{BACK_KEY}' goes back, "
            f"and {holder} uses it; give it another key")


def _cycle(parent: Falyx, child: Falyx) -> list[str] | None:
    """The titles around the loop that mounting `child` under `parent` would close, if any
    (`child` is `parent` or one of its ancestors)."""
    chain: list[Falyx] = []
    app: Falyx | None = parent
    while app is not None:
        chain.append(app)
        if app is child:
            return [a.title for a in reversed(chain)] + [child.title]
        app = app.mount.parent if app.mount is not None else None
    return None
