"""`Falyx`: a registry of commands plus the entry points that run them."""

from __future__ import annotations

import dataclasses
import inspect
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from falyx.action.action import Action
from falyx.action.base import BaseAction
from falyx.command import Command
from falyx.errors import CommandNotFound, RegistrationError
from falyx.hooks import Hook, HookManager, HookSpec, HookType
from falyx.naming import cli_name_from
from falyx.retry import RetryPolicy, RetrySpec
from falyx.signature import check_cli_parameters
from falyx.submenu import (
    BUILTIN_KEYS,
    RESERVED_NAMES,
    SEPARATOR,
    Submenu,
    app_hooks,
    check_key,
    command_label,
    find_command,
    key_holder,
    label_prefix,
    mount_path,
    name_holder,
    new_submenu,
    resolve_path,
    subtree,
)

if TYPE_CHECKING:
    from falyx.action.base import PreviewNode
    from falyx.action.options import RunOptions
    from falyx.bottom_bar import BottomBar
    from falyx.context import ExecutionContext
    from falyx.history import ExecutionRegistry

__all__ = ["BUILTIN_KEYS", "RESERVED_NAMES", "Falyx"]

F = TypeVar("F", bound=Callable[..., Any])


class Falyx:
    """A set of commands, reachable as a Typer CLI, an interactive menu, or from code."""

    def __init__(
        self,
        title: str = "falyx",
        *,
        program: str | None = None,
        version: str | None = None,
        history_limit: int = 10_000,
        history: str | Path | None = None,
        hooks: HookSpec | None = None,
        never_prompt: bool = False,
    ) -> None:
        self.title = title
        #: Names the history and prompt files; the script's stem unless given.
        self.program = program or Path(sys.argv[0] or "falyx").stem or "falyx"
        #: The name usage lines show: `program` if given, else the script as typed (Click's).
        self.prog_name = program
        self.version = version
        self.history = history
        self.never_prompt = never_prompt
        self.commands: dict[str, Command] = {}
        #: Apps mounted under a key of this one (`add_submenu`), by key.
        self.submenus: dict[str, Submenu] = {}
        #: The entry this app is mounted as in another app, or None (DESIGN §2.12).
        self.mount: Submenu | None = None
        #: Each key and alias of its commands, and each submenu's key (upper case).
        self.key_index: dict[str, Command | Submenu] = {}
        self.hooks = HookManager.coerce(hooks)
        if history_limit < 1:  # refused here, as the registry (made on first use) would
            raise ValueError(f"history limit must be at least 1, got {history_limit}")
        self._history_limit = history_limit
        self._registry: ExecutionRegistry | None = None  # made on first use: a run's
        self._bottom_bar: BottomBar | None = None
        self._started = False
        self._typer: Any = None
        self._options: dict[str, RunOptions] = {}

    @classmethod
    def from_config(cls, path: str | Path) -> Falyx:
        """The app a config file describes (DESIGN §2.13); see `falyx.config.load`.

        Raises:
            falyx.config.ConfigFileError: every problem of the file, with its line (exit 2).
        """
        from falyx.config import load

        return load(path)

    # -- registration ------------------------------------------------------------------
    def add_command(self, key: str, description: str, action: Any, **options: Any) -> Command:
        """Register `action` under `key` (the object form of `@app.command`).

        Raises:
            RegistrationError: a taken key, alias or name; the app has started; steps that
                declare one parameter differently; a parameter named like a falyx option
                or with an annotation that cannot be resolved.
            TypeError: `action` is neither a step nor a callable.
        """
        self._check_not_started(f"command {key!r}")
        command = Command(key, description, action, **options)
        check_cli_parameters(command.key, command.parameters())  # its CLI options, now
        if command.cli_name is None:
            # '<lambda>' or 'a -> b' make poor names: the key then
            command.cli_name = cli_name_from(command.action.name) or command.key.lower()
        names = [command.key, *command.aliases]
        for name in names:
            check_key(name)
            taken = key_holder(self, name)
            if taken:
                raise RegistrationError(f"key or alias {name!r} is already used by {taken}")
        taken = name_holder(self, command.cli_name)
        if taken:
            raise RegistrationError(f"command name {command.cli_name!r} is already used by "
                                    f"{taken}; pass name= to choose another")
        self.commands[command.key] = command
        self.key_index.update(dict.fromkeys(names, command))
        self._changed()
        return command

    def add_submenu(
        self,
        key: str,
        description: str,
        other_app: Falyx,
        *,
        name: str | None = None,
        tags: Iterable[str] = (),
        style: str = "",
    ) -> Submenu:
        """Mount `other_app` under `key` (DESIGN §2.12): its menu opens on `key`, its CLI is
        the sub-group `name`, its runs record here as `KEY.R`.

        `name` defaults to the other app's `program=` when it was given, else to
        `description` in lower case with dashes (else `key` in lower case).

        Raises:
            RegistrationError: `key` or `name` is taken here (or a built-in: H, Y, X, and B in
                a mounted app; `run`, `help`, ...); the mount would make a cycle; `other_app`
                is already mounted elsewhere or uses the key `B` (which goes back in its
                menu); this app has started.
        """
        self._check_not_started(f"submenu {key!r}")
        if not isinstance(other_app, Falyx):
            raise TypeError(f"submenu {key!r}: expected a Falyx app, got "
                            f"{type(other_app).__name__}")
        submenu = new_submenu(self, key, description, other_app, name=name, tags=tags,
                              style=style,
                              default_name=other_app.prog_name or cli_name_from(description) or "")
        self.submenus[submenu.key] = self.key_index[submenu.key] = other_app.mount = submenu
        for app in subtree(other_app):  # their labels, registry and hooks have changed
            app._options.clear()
        self._changed()
        return submenu

    @overload
    def command(self, fn: F, /) -> Action: ...
    @overload
    def command(self, *, key: str | None = None, **options: Any) -> Callable[[F], Action]: ...
    def command(
        self,
        fn: Any = None,
        /,
        *,
        key: str | None = None,
        description: str | None = None,
        name: str | None = None,
        retry: RetrySpec = False,
        retry_policy: RetryPolicy | None = None,
        rollback: Callable[..., Any] | None = None,
        timeout: float | None = None,
        hooks: HookSpec | None = None,
        **options: Any,
    ) -> Any:
        """Register a function (or an existing step) as a command; returns the step.

        Usable bare (`@app.command`) or with options (`@app.command(key="B", retry=3)`).
        """

        def register(target: Any) -> BaseAction:
            doc = inspect.getdoc(target) if not isinstance(target, BaseAction) else None
            if isinstance(target, BaseAction):
                step, command_opts = target, {"retry": retry, "retry_policy": retry_policy,
                                              "timeout": timeout, "hooks": hooks}
                if rollback is not None:
                    raise TypeError("rollback= belongs to the step; set it when building "
                                    f"{target.name!r}")
            else:
                step = Action(target.__name__, target, retry=retry, retry_policy=retry_policy,
                              rollback=rollback, timeout=timeout, hooks=hooks)
                command_opts = {}
            summary = (doc or "").strip().splitlines()[0] if doc else ""
            options.setdefault("help_text", doc or "")
            self.add_command(
                key or step.name.upper(), description or summary or step.name, step,
                name=name, **command_opts, **options,
            )
            return step

        return register if fn is None else register(fn)

    def on(self, hook_type: HookType | str) -> Callable[[Hook], Hook]:
        """Decorator: run this hook for every command (`@app.on("error")`)."""
        return lambda hook: self.hooks.register(hook_type, hook)

    # -- lookup ------------------------------------------------------------------------
    def get(self, key: str) -> Command:
        """The command with this key, alias or CLI name (any case); `O.R` is command R of the
        submenu O. Raises `CommandNotFound` (with a suggestion), also for a submenu's key."""
        found = self.entry(key)
        if isinstance(found, Submenu):
            example = next(iter(found.app.commands), "R")
            raise CommandNotFound(
                f"'{key.strip()}' opens the menu {found.description!r}; name one of its "
                f"commands, e.g. '{key.strip()}{SEPARATOR}{example}'")
        return found

    def entry(self, key: str) -> Command | Submenu:
        """The command or submenu for `key`: a key, alias or CLI name (any case), or a path of
        them through submenus (`O.R`, `ops.restart-db`). Raises `CommandNotFound`."""
        return resolve_path(self, key)

    def visible_commands(self) -> list[Command]:
        return [c for c in self.commands.values() if not c.hidden]

    def label(self, command: Command) -> str:
        """`command`'s path of keys from the root app (`O.R`; its key for a root app's own):
        how its runs are recorded and how the CLI and menu name it."""
        return command_label(self, command)

    def preview(
        self, command: Command, kwargs: Mapping[str, Any] | None = None, *,
        overrides: Mapping[str, Any] | None = None,
    ) -> PreviewNode:
        """The tree of what running `command` (of this app or a submenu's) with these
        arguments and run options (`{"max_retries": 5}`, ...) would run, headed by its path."""
        path = find_command(self, command)
        if path:
            return path[-1].app.preview(command, kwargs, overrides=overrides)
        return command.preview(self._run_options(command, overrides=dict(overrides or {})),
                               kwargs=kwargs)

    @property
    def root(self) -> Falyx:
        """The app at the top of the mount tree (this app when it is not mounted)."""
        return self if self.mount is None else self.mount.parent.root

    @property
    def registry(self) -> ExecutionRegistry:
        """Where runs are recorded: the root app's registry while this app is mounted."""
        if self.mount is not None:
            return self.mount.parent.registry
        if self._registry is None:
            from falyx.history import ExecutionRegistry

            self._registry = ExecutionRegistry(limit=self._history_limit)
        return self._registry

    @registry.setter
    def registry(self, value: ExecutionRegistry) -> None:
        self._registry = value
        for app in subtree(self):
            app._options.clear()

    def _changed(self) -> None:
        """The registry changed: this app's CLI, and its parents', are compiled again."""
        self._typer = None
        if self.mount is not None:
            self.mount.parent._changed()

    def _check_not_started(self, what: str) -> None:
        if any(app._started for app in (self, *(m.parent for m in mount_path(self)))):
            raise RegistrationError(f"cannot register {what}: the app has already started")

    # -- running -----------------------------------------------------------------------
    def prepare(
        self,
        command: Command,
        args: Iterable[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        *,
        overrides: Mapping[str, Any] | None = None,
        sleep: Any = None,
    ) -> tuple[ExecutionContext, RunOptions]:
        """The context and options for one run of `command` (see `drive`); a command of a
        mounted app runs as that app's, recorded here under its path (`O.R`)."""
        self._started = True
        path = find_command(self, command)
        if path:
            return path[-1].app.prepare(command, args, kwargs, overrides=overrides, sleep=sleep)
        if overrides or sleep is not None or self.mount is not None:
            options = self._run_options(command, overrides=dict(overrides or {}), sleep=sleep)
        else:  # the common case: one frozen RunOptions per command, built once
            options = self._options.get(command.key)
            if options is None:
                options = self._options[command.key] = self._run_options(command)
        return command._new_context(tuple(args), dict(kwargs or {}), options), options

    def _run_options(self, command: Command, **base: Any) -> RunOptions:
        """A mounted app's commands get its parents' hooks too (its own first) and a label."""
        options = command.run_options(registry=self.registry, root_hooks=app_hooks(self),
                                      **base)
        if self.mount is None:
            return options
        return dataclasses.replace(options, command=label_prefix(self) + command.key)

    async def drive(self, ctx: ExecutionContext, options: RunOptions) -> Any:
        """Run a prepared command; returns its result or raises its error."""
        from falyx.action.options import using_options

        with using_options(options):
            await ctx.action._execute(ctx.args, ctx.kwargs, ctx, options)
        return ctx.result

    async def run_key(self, key: str, *args: Any, **kwargs: Any) -> Any:
        """Run a command by key or alias (`O.R` in a submenu) from code; returns its result."""
        self._started = True
        ctx, options = self.prepare(self.get(key), args, kwargs)
        return await self.drive(ctx, options)

    async def run(self, argv: list[str] | None = None) -> None:
        """Parse `argv` (default `sys.argv[1:]`) and run; ends with `SystemExit(code)`."""
        from falyx.cli import run_argv

        self._started = True
        raise SystemExit(await run_argv(self, sys.argv[1:] if argv is None else argv))

    def __call__(self, argv: list[str] | None = None) -> None:
        """The sync entry point: `app()` in `if __name__ == "__main__":`.

        Parses without an event loop (`--help` never starts one), then runs the job, if any,
        with `asyncio.run`; ends with `SystemExit(code)` like `run()`.
        """
        from falyx.cli import run_argv_sync

        self._started = True
        raise SystemExit(run_argv_sync(self, sys.argv[1:] if argv is None else argv))

    @property
    def bottom_bar(self) -> BottomBar:
        """The menu's bottom bar (DESIGN §2.7), made on first use: only the menu shows it."""
        if self._bottom_bar is None:
            from falyx.bottom_bar import BottomBar

            self._bottom_bar = BottomBar()
        return self._bottom_bar

    @property
    def typer(self) -> Any:
        """The generated `typer.Typer` (to mount in a larger Typer app)."""
        if self._typer is None:
            from falyx.cli import build_typer

            self._typer = build_typer(self)
        return self._typer
