"""`Falyx`: a registry of commands plus the entry points that run them."""

from __future__ import annotations

import asyncio
import difflib
import inspect
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar, overload

from falyx.action.action import Action
from falyx.action.base import BaseAction
from falyx.action.options import RunOptions, using_options
from falyx.bottom_bar import BottomBar
from falyx.command import Command
from falyx.context import ExecutionContext
from falyx.errors import CommandNotFound, RegistrationError
from falyx.history import ExecutionRegistry
from falyx.hooks import Hook, HookManager, HookSpec, HookType
from falyx.retry import RetryPolicy, RetrySpec
from falyx.signature import check_cli_parameters

__all__ = ["BUILTIN_KEYS", "RESERVED_NAMES", "Falyx"]

F = TypeVar("F", bound=Callable[..., Any])
BUILTIN_KEYS = {"H": "Help", "Y": "History", "X": "Exit"}
RESERVED_NAMES = {"run", "run-all", "preview", "history", "help"}


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
        self._lookup: dict[str, Command] = {}
        self.hooks = HookManager.coerce(hooks)
        self.registry = ExecutionRegistry(limit=history_limit)
        self.bottom_bar = BottomBar()
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
        if self._started:
            raise RegistrationError(
                f"cannot register command {key!r}: the app has already started")
        command = Command(key, description, action, **options)
        check_cli_parameters(command.key, command.parameters())  # its CLI options, now
        if command.cli_name is None:
            derived = _cli_name(command.action.name)  # '<lambda>' or 'a -> b' make poor names
            command.cli_name = derived if derived.replace("-", "_").isidentifier() else (
                command.key.lower())
        names = [command.key, *command.aliases]
        for name in names:
            taken = self._lookup.get(name) or (name in BUILTIN_KEYS and BUILTIN_KEYS[name])
            if taken:
                raise RegistrationError(f"key or alias {name!r} is already used by {taken!r}")
        if command.cli_name in RESERVED_NAMES or any(
            c.cli_name == command.cli_name for c in self.commands.values()
        ):
            raise RegistrationError(
                f"command name {command.cli_name!r} is already taken; pass name= to choose another")
        self.commands[command.key] = command
        self._lookup.update(dict.fromkeys(names, command))
        self._typer = None  # compiled from the registry: rebuild on next use
        return command

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
                name=name or _cli_name(step.name), **command_opts, **options,
            )
            return step

        return register if fn is None else register(fn)

    def on(self, hook_type: HookType | str) -> Callable[[Hook], Hook]:
        """Decorator: run this hook for every command (`@app.on("error")`)."""
        return lambda hook: self.hooks.register(hook_type, hook)

    # -- lookup ------------------------------------------------------------------------
    def get(self, key: str) -> Command:
        """The command with this key, alias or CLI name (any case)."""
        wanted = key.strip().upper()
        found = self._lookup.get(wanted)
        if found is None:
            found = next((c for c in self.commands.values()
                          if (c.cli_name or "").upper() == wanted), None)
        if found is None:
            raise CommandNotFound(self.unknown_message(key))
        return found

    def unknown_message(self, key: str) -> str:
        """`unknown command 'RR'; did you mean 'R'?` (suggestions from keys and aliases)."""
        choices = {**{c.cli_name.upper(): c.cli_name for c in self.commands.values() if c.cli_name},
                   **{k: k for k in self._lookup}}  # a key wins over a CLI name that looks alike
        close = difflib.get_close_matches(key.strip().upper(), list(choices), n=1, cutoff=0.5)
        hint = f"; did you mean '{choices[close[0]]}'?" if close else "; see 'help' for commands"
        return f"unknown command '{key}'{hint}"

    def visible_commands(self) -> list[Command]:
        return [c for c in self.commands.values() if not c.hidden]

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
        """The context and options for one run of `command` (see `drive`)."""
        self._started = True
        if overrides or sleep is not None:
            options = command.run_options(registry=self.registry, overrides=dict(overrides or {}),
                                          sleep=sleep, root_hooks=self.hooks)
        else:  # the common case: one frozen RunOptions per command, built once
            options = self._options.get(command.key)
            if options is None:
                options = self._options[command.key] = command.run_options(
                    registry=self.registry, root_hooks=self.hooks)
        return command._new_context(tuple(args), dict(kwargs or {}), options), options

    async def drive(self, ctx: ExecutionContext, options: RunOptions) -> Any:
        """Run a prepared command; returns its result or raises its error."""
        with using_options(options):
            await ctx.action._execute(ctx.args, ctx.kwargs, ctx, options)
        return ctx.result

    async def run_key(self, key: str, *args: Any, **kwargs: Any) -> Any:
        """Run a command by key or alias from code and return its result."""
        self._started = True
        ctx, options = self.prepare(self.get(key), args, kwargs)
        return await self.drive(ctx, options)

    async def run(self, argv: list[str] | None = None) -> None:
        """Parse `argv` (default `sys.argv[1:]`) and run; ends with `SystemExit(code)`."""
        from falyx.cli import run_argv

        self._started = True
        raise SystemExit(await run_argv(self, sys.argv[1:] if argv is None else argv))

    def __call__(self, argv: list[str] | None = None) -> None:
        """The sync entry point: `app()` in `if __name__ == "__main__":`."""
        try:
            asyncio.run(self.run(argv))
        except KeyboardInterrupt:  # Ctrl-C outside a command (parsing, between menu prompts)
            sys.stderr.write("Interrupted.\n")
            raise SystemExit(130) from None

    @property
    def typer(self) -> Any:
        """The generated `typer.Typer` (to mount in a larger Typer app)."""
        if self._typer is None:
            from falyx.cli import build_typer

            self._typer = build_typer(self)
        return self._typer


def _cli_name(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")
