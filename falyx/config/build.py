"""A `Falyx` app from a config file, built through the public API only (DESIGN §2.13).

`load(path)` reads and converts the file, resolves keys and refs, builds every command and
submenu, and either returns the app or raises `ConfigFileError` with every problem found,
in this file and in the files it includes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec

from falyx.app import BUILTIN_KEYS, RESERVED_NAMES, Falyx
from falyx.config.problems import ConfigFileError, DocPath, Problem
from falyx.config.refs import RefError, add_to_path, resolve
from falyx.config.schema import CommandSpec, ConfigFile, SubmenuSpec
from falyx.config.source import Document, read_document
from falyx.config.steps import NOT_A_KEY, StepFactory
from falyx.config.validate import convert
from falyx.errors import FalyxError

__all__ = ["MAX_DEPTH", "SCRIPT_NAMES", "load"]

#: Names the `falyx` script keeps for itself, on top of the CLI's own.
SCRIPT_NAMES = frozenset({"init", "check", "schema"})
MAX_DEPTH = 8
_COMMAND_OPTIONS = ("aliases", "tags", "hidden", "help_text", "style", "confirm",
                    "confirm_message", "preview_before_confirm", "spinner", "retry_all",
                    "record_result")


def load(path: str | Path) -> Falyx:
    """The app a config file describes (`falyx.yaml`, `falyx.toml`, `pyproject.toml`).

    Raises:
        ConfigFileError: every problem of the file (and of the files it includes), each
            with its file, line, column and path. Its exit code is 2.
    """
    return _load(Path(path).resolve(), ())


def _load(file: Path, stack: tuple[Path, ...]) -> Falyx:
    doc = read_document(file)
    config, problems = convert(doc, doc.data, ConfigFile)
    if config is None:
        config = _salvage(doc.data)  # still resolve what converts: report it all at once
    builder = _AppBuilder(doc, config, (*stack, file), problems, broken_keys=_broken_keys(doc))
    app = builder.build()
    if problems:
        raise ConfigFileError(_ordered(problems))
    return app


def _salvage(data: Any) -> ConfigFile:
    """What of an invalid document converts on its own: settings, commands, submenus.

    Invalid items become None (indices stay those of the file); their problems are known.
    """
    salvaged = ConfigFile()
    if not isinstance(data, dict):
        return salvaged
    for info in msgspec.structs.fields(ConfigFile):
        raw = data.get(info.encode_name)
        if raw is None:
            continue
        if info.name in ("commands", "submenus"):
            kind = CommandSpec if info.name == "commands" else SubmenuSpec
            items = [_converted(item, kind) for item in (raw if isinstance(raw, list) else ())]
            setattr(salvaged, info.name, items)
        else:
            setattr(salvaged, info.name, _converted(raw, info.type))
    return salvaged


def _converted(value: Any, tp: Any) -> Any:
    try:
        return msgspec.convert(value, tp)
    except msgspec.ValidationError:
        return None


def _broken_keys(doc: Document) -> set[str]:
    """Keys written in the file, even on invalid commands: a step naming one is not lost."""
    data = doc.data if isinstance(doc.data, dict) else {}
    items = data.get("commands") if isinstance(data.get("commands"), list) else []
    return {item["key"].upper() for item in items
            if isinstance(item, dict) and isinstance(item.get("key"), str)}


def _ordered(problems: list[Problem]) -> list[Problem]:
    files = list(dict.fromkeys(p.file for p in problems))
    return sorted(problems, key=lambda p: (files.index(p.file), p.line or 0, p.column or 0))


class _AppBuilder:
    def __init__(self, doc: Document, config: ConfigFile, stack: tuple[Path, ...],
                 problems: list[Problem], broken_keys: set[str]) -> None:
        self.doc, self.config, self.stack, self.problems = doc, config, stack, problems
        self.broken_keys = broken_keys
        folder = doc.file.parent
        paths = config.pythonpath if config.pythonpath is not None else ["."]
        self.looked_in = [str((folder / p).resolve()) for p in
                          ([paths] if isinstance(paths, str) else paths)]
        env = {k: str(v) for k, v in (config.env or {}).items()}
        self.factory = StepFactory(doc, self.looked_in, env, self._lookup, problems)
        self.index: dict[str, int] = {}  # key or alias (upper case) -> command index
        self.submenu_keys: set[str] = set()
        self.names: dict[DocPath, str] = {}  # CLI names of commands and submenus, by path
        self.actions: dict[int, Any] = {}
        self.building: list[int] = []

    def build(self) -> Falyx:
        config = self.config
        if not config.commands and not config.submenus and not self.problems:
            self.report((), "defines no commands; add some under 'commands' (see 'falyx init')")
        add_to_path(self.looked_in)
        history = config.history
        if isinstance(history, bool):  # YAML reads a bare `off` as false
            history = None if history else "off"
        elif history is not None and history.lower() != "off":
            history = str(self.doc.file.parent / history)
        app = Falyx(config.title or "falyx", program=config.program or "falyx",
                    version=config.version, history=history)
        if len(self.stack) == 1:  # the top file: usage shows what the user types
            app.prog_name = "falyx"
        self._index_keys()
        self.factory.keys = list(self.index)
        for i, spec in enumerate(config.commands):
            if spec is not None and ("commands", i) in self.names:
                self._add_command(app, i, spec)
        for i, sub in enumerate(config.submenus):
            if sub is not None and ("submenus", i) in self.names:
                self._add_submenu(app, i, sub)
        return app

    # -- keys and names ----------------------------------------------------------------
    def _index_keys(self) -> None:
        taken: dict[str, str] = {}
        entries = [(("commands", i), c) for i, c in enumerate(self.config.commands)]
        entries += [(("submenus", i), s) for i, s in enumerate(self.config.submenus)]
        for path, spec in entries:
            if spec is None:
                continue
            ok = self._claim_keys(path, spec)
            name = self._cli_name(path, spec, taken)
            if ok and name is not None:
                self.names[path] = name
                taken[name] = self.doc.path_text(path)

    def _claim_keys(self, path: DocPath, spec: CommandSpec | SubmenuSpec) -> bool:
        ok = True
        aliases = getattr(spec, "aliases", None) or []
        for where, key in [((*path, "key"), spec.key),
                           *(((*path, "aliases", j), a) for j, a in enumerate(aliases))]:
            upper = key.upper()
            if upper in BUILTIN_KEYS:
                self.report(where, f"key '{key}' is reserved for the menu's "
                                   f"{BUILTIN_KEYS[upper]}")
                ok = False
            elif upper in self.index or upper in self.submenu_keys:
                first = self.index.get(upper)
                owner = f"commands[{first}]" if first is not None else "a submenu"
                self.report(where, f"duplicate key '{key}': {owner} already uses it "
                                   "(keys are case-insensitive)")
                ok = False
            elif path[0] == "commands":
                self.index[upper] = path[1]  # type: ignore[assignment]
            else:
                self.submenu_keys.add(upper)
        return ok

    def _cli_name(self, path: DocPath, spec: Any, taken: dict[str, str]) -> str | None:
        reserved = RESERVED_NAMES | SCRIPT_NAMES
        if spec.name is not None:
            name = spec.name
            if name in reserved:
                self.report((*path, "name"), f"name '{name}' is reserved for falyx's own "
                                             f"commands ({', '.join(sorted(reserved))})")
                return None
            if name in taken:
                self.report((*path, "name"), f"name '{name}' is already used by {taken[name]}")
                return None
            return name
        words = re.findall(r"[a-z0-9]+", spec.description.lower())
        for name in (words[:1] or []) + [spec.key.lower()]:
            if name not in reserved and name not in taken:
                return name
        self.report(path, f"command name '{spec.key.lower()}' is reserved or taken; set "
                          "'name' to choose one")
        return None

    # -- commands ----------------------------------------------------------------------
    def _lookup(self, word: str, path: DocPath) -> Any:
        index = self.index.get(word.upper())
        if index is None:
            return None if word.upper() in self.broken_keys else NOT_A_KEY
        return self._action(index, path)

    def _action(self, index: int, from_path: DocPath | None = None) -> Any:
        if index in self.actions:
            return self.actions[index]
        if index in self.building:
            keys = [self.config.commands[i].key for i in self.building[
                self.building.index(index):]]
            cycle = " -> ".join([*keys, self.config.commands[index].key])
            self.report(from_path or ("commands", index), f"steps form a cycle: {cycle}")
            return None
        spec = self.config.commands[index]
        if spec.retry_all:  # the command's policy goes to the leaves, not to the body
            spec = msgspec.structs.replace(spec, retry=None)
        self.building.append(index)
        try:
            action = self.factory.step(spec, ("commands", index),
                                       name=self.names.get(("commands", index)))
        finally:
            self.building.pop()
        self.actions[index] = action
        return action

    def _add_command(self, app: Falyx, index: int, spec: CommandSpec) -> None:
        action = self._action(index)
        if action is None:
            return
        options = {k: getattr(spec, k) for k in _COMMAND_OPTIONS if getattr(spec, k) is not None}
        if spec.retry_all and spec.retry is not None and spec.retry is not False:
            policy = self.factory.retry_policy(spec.retry, ("commands", index, "retry"))
            options["retry_policy"] = policy
        try:
            app.add_command(spec.key, spec.description, action,
                            name=self.names[("commands", index)], **options)
        except (FalyxError, TypeError, ValueError) as exc:
            self.report(("commands", index), str(exc))

    # -- submenus ----------------------------------------------------------------------
    def _add_submenu(self, app: Falyx, index: int, spec: SubmenuSpec) -> None:
        path: DocPath = ("submenus", index)
        sub = self._included(spec.config, (*path, "config")) if spec.config is not None else (
            self._python_app(spec.app, (*path, "app")))  # type: ignore[arg-type]
        if sub is None:
            return
        try:
            app.add_submenu(spec.key, spec.description, sub, name=self.names[path],
                            tags=spec.tags or (), style=spec.style or "")
        except (FalyxError, TypeError, ValueError) as exc:
            self.report(path, str(exc))

    def _included(self, config: str, path: DocPath) -> Falyx | None:
        file = (self.doc.file.parent / config).resolve()
        if file in self.stack:
            chain = " -> ".join(f.name for f in (*self.stack[self.stack.index(file):], file))
            self.report(path, f"include cycle: {chain}")
            return None
        if len(self.stack) >= MAX_DEPTH:
            self.report(path, f"submenu configs nest deeper than {MAX_DEPTH} files")
            return None
        if not file.is_file():
            self.report(path, f"no such config file: '{config}' (looked for {file})")
            return None
        try:
            return _load(file, self.stack)
        except ConfigFileError as exc:
            self.problems.extend(exc.problems)
            return None

    def _python_app(self, ref: str, path: DocPath) -> Falyx | None:
        try:
            target = resolve(ref, self.looked_in)
        except RefError as exc:
            self.report(path, str(exc))
            return None
        if not isinstance(target, Falyx):
            self.report(path, f"ref '{ref}' names {type(target).__name__}, not a Falyx app")
            return None
        return target

    def report(self, path: DocPath, message: str) -> None:
        self.problems.append(self.doc.problem(path, message))
