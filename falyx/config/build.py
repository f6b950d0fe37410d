"""A `Falyx` app from a config file, built through the public API only (DESIGN §2.13).

`load(path)` reads and converts the file, resolves keys and refs, builds every command and
submenu, and either returns the app or raises `ConfigFileError` with every problem found,
in this file and in the files it includes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from falyx.app import BUILTIN_KEYS, Falyx
from falyx.config.advice import config_advice
from falyx.config.names import SCRIPT_NAMES, NameTable, read_entries, reserved_message
from falyx.config.problems import ConfigFileError, DocPath, Problem
from falyx.config.refs import RefError, add_to_path, resolve
from falyx.config.schema import CommandSpec, ConfigFile, SubmenuSpec
from falyx.config.source import Document, read_document
from falyx.config.steps import NOT_A_KEY, StepFactory
from falyx.config.validate import convert
from falyx.errors import FalyxError

__all__ = ["MAX_DEPTH", "SCRIPT_NAMES", "load"]

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
    """Every stage runs on what converts: a schema problem in one command never hides the
    duplicate key, the bad ref or the cycle of another (or of that one's valid fields)."""
    doc = read_document(file)
    conversion = convert(doc, doc.data, ConfigFile)
    problems = [*doc.problems, *conversion.problems]
    config = conversion.value if conversion.value is not None else ConfigFile()
    builder = _AppBuilder(doc, config, (*stack, file), problems, conversion.partial)
    app = builder.build()
    if problems:
        raise ConfigFileError(_ordered(problems))
    return app


def _ordered(problems: list[Problem]) -> list[Problem]:
    files = list(dict.fromkeys(p.file for p in problems))
    return sorted(problems, key=lambda p: (files.index(p.file), p.line or 0, p.column or 0))


class _AppBuilder:
    def __init__(self, doc: Document, config: ConfigFile, stack: tuple[Path, ...],
                 problems: list[Problem], partial: set[DocPath]) -> None:
        self.doc, self.config, self.stack, self.problems = doc, config, stack, problems
        self.partial = partial  # checked, never registered (validate.Conversion)
        folder = doc.file.parent
        paths = config.pythonpath if config.pythonpath is not None else ["."]
        self.looked_in = [str((folder / p).resolve()) for p in
                          ([paths] if isinstance(paths, str) else paths)]
        env = {k: str(v) for k, v in (config.env or {}).items()}
        self.factory = StepFactory(doc, self.looked_in, env, self._lookup, problems, partial)
        self.table = NameTable(self.report, doc.path_text)
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
        # usage lines of the top file show what the user types; an included file's app is
        # named as a Python sub-app is (`program:` if given, else by its submenu entry)
        app.prog_name = "falyx" if len(self.stack) == 1 else config.program
        data = self.doc.data
        self.table.claim(read_entries(data, "commands") + read_entries(data, "submenus"))
        self.factory.keys = list(self.table.index)
        apps = {i: self._sub_app(i, sub) for i, sub in enumerate(config.submenus)
                if sub is not None}
        for i, spec in enumerate(config.commands):
            if spec is not None:  # every command is checked; the sound ones registered
                action = self._action(i)
                if action is not None and self._sound(("commands", i)):
                    self._add_command(app, i, spec, action)
                elif action is not None:  # its key or name is taken: checked on its own
                    self._check_alone(i, spec, action)
        for i, sub_app in apps.items():
            if sub_app is not None and self._sound(("submenus", i)):
                self._add_submenu(app, i, config.submenus[i], sub_app)  # type: ignore[arg-type]
        return app

    def _sound(self, path: DocPath) -> bool:
        """Free key and name, and every field valid: it may be registered."""
        return path in self.table.clear and path not in self.partial

    # -- commands ----------------------------------------------------------------------
    def _lookup(self, word: str, path: DocPath) -> Any:
        index = self.table.index.get(word.upper())
        if index is None:  # a key written on a command with problems is not unknown
            return None if word.upper() in self.table.written else NOT_A_KEY
        return self._action(index, path)

    def _action(self, index: int, from_path: DocPath | None = None) -> Any:
        """The action of command `index`; None when it has problems (reported)."""
        if index in self.actions:
            return self.actions[index]
        spec = self.config.commands[index]
        if spec is None:  # nothing of it converts: its problems are reported
            return None
        if index in self.building:
            keys = [self.config.commands[i].key for i in self.building[  # type: ignore[union-attr]
                self.building.index(index):]]
            cycle = " -> ".join([*keys, spec.key])
            self.report(from_path or ("commands", index), f"steps form a cycle: {cycle}")
            return None
        if spec.retry_all:  # the command's policy goes to the leaves, not to the body
            spec = msgspec.structs.replace(spec, retry=None)
        self.building.append(index)
        try:
            action = self.factory.step(spec, ("commands", index),
                                       name=self.table.names.get(("commands", index)))
        finally:
            self.building.pop()
        self.actions[index] = action
        return action

    def _check_alone(self, index: int, spec: CommandSpec, action: Any) -> None:
        """What registering finds besides keys and names (parameters that clash or take a
        falyx option), for a command whose key or name is taken (reported): it is registered
        in an app of its own, without aliases, under a neutral name."""
        if spec.key.upper() not in BUILTIN_KEYS:
            alone = msgspec.structs.replace(spec, aliases=None)
            self._add_command(Falyx("check"), index, alone, action, name="falyx-check")

    def _add_command(self, app: Falyx, index: int, spec: CommandSpec, action: Any,
                     name: str | None = None) -> None:
        options = {k: getattr(spec, k) for k in _COMMAND_OPTIONS if getattr(spec, k) is not None}
        if spec.retry_all and spec.retry is not None and spec.retry is not False:
            policy = self.factory.retry_policy(spec.retry, ("commands", index, "retry"))
            options["retry_policy"] = policy
        try:
            app.add_command(spec.key, spec.description, action,
                            name=name or self.table.names[("commands", index)], **options)
        except (FalyxError, TypeError, ValueError) as exc:
            self.report(("commands", index), config_advice(str(exc), _placeholders(action)))

    # -- submenus ----------------------------------------------------------------------
    def _sub_app(self, index: int, spec: SubmenuSpec) -> Falyx | None:
        """The app a submenu mounts (its file loaded, or its ref imported), or None."""
        path: DocPath = ("submenus", index)
        if spec.config is not None:
            return self._included(spec.config, (*path, "config"))
        return self._python_app(spec.app, (*path, "app"))  # type: ignore[arg-type]

    def _add_submenu(self, app: Falyx, index: int, spec: SubmenuSpec, sub: Falyx) -> None:
        """Mount `sub`; its CLI name follows the Python rule of `add_submenu`: `name:`, else
        the sub-app's program (`program:` of its file), else the description, dashed."""
        path: DocPath = ("submenus", index)
        try:
            mounted = app.add_submenu(spec.key, spec.description, sub, name=spec.name,
                                      tags=spec.tags or (), style=spec.style or "")
        except (FalyxError, TypeError, ValueError) as exc:
            self.report(path, config_advice(str(exc)))
            return
        if mounted.cli_name in SCRIPT_NAMES:
            self.report(path, f"submenu {reserved_message(mounted.cli_name)}; set 'name' to "
                              "choose another")

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
        if not self.doc.moot(path):
            self.problems.append(self.doc.problem(path, message))


def _placeholders(action: Any) -> set[str]:
    """The `{name}` placeholders of the run/shell steps in `action` (none elsewhere)."""
    return {name for step in action.walk()
            for name in getattr(getattr(step, "template", None), "placeholders", ())}
