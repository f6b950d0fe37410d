"""`run` and `preview`: groups whose subcommands are the keys (DESIGN §2.6, §2.12).

`run KEY [ARGS]` and `preview KEY [ARGS]` resolve KEY (any case, an alias, a path through
submenus: `O.R`) to the command's own subcommand, so both parse, convert, help and complete
exactly as the named subcommand does; `preview` uses it with its required options made
optional (a preview never needs them) and shows the tree instead of running. Shell
completion lists the keys, then the submenus' commands as paths (`O.R`).
"""

from __future__ import annotations

from collections.abc import Callable
from copy import copy
from typing import TYPE_CHECKING, Any

import typer
import typer.core

from falyx.cli import jobs
from falyx.cli.conversion import OwnOptions
from falyx.cli.core import OUTER, subcommand
from falyx.cli.lazy import BuiltinCommand, LazyCommand, build_single
from falyx.cli.options import context_parameter, make_callback, run_parameters
from falyx.errors import FalyxError
from falyx.submenu import Submenu, key_paths

if TYPE_CHECKING:
    from falyx.app import Falyx

__all__ = ["PREVIEW_HELP", "RUN_HELP", "lazy_preview", "lazy_run"]

RUN_HELP = "Run a command by key or alias (any case; O.R for a submenu's): run KEY [ARGS]"
PREVIEW_HELP = ("Show the tree of what a command would run, with the options given (none are "
                "required), and run nothing; a submenu's key lists its commands: "
                "preview KEY [ARGS]")


def _keyed_group_class(app: Falyx, *, preview: bool) -> type[typer.core.TyperGroup]:
    """The class of `run` (`preview`): its subcommands are the keys and paths, each one the
    command's own subcommand (for `preview`, a submenu's key too)."""

    class KeyedGroup(OwnOptions, typer.core.TyperGroup):
        def list_commands(self, ctx: typer.Context) -> list[str]:
            return key_paths(app, menus=preview)

        def shell_complete(self, ctx: typer.Context, incomplete: str) -> list[Any]:
            if not (incomplete[:1].isalpha() and incomplete.islower()):
                return super().shell_complete(ctx, incomplete)
            items = super().shell_complete(ctx, incomplete.upper())  # keys are upper case
            for item in items:
                item.value = item.value.lower()
            return items

        def get_command(self, ctx: typer.Context, name: str) -> Any:
            try:
                entry = app.entry(name) if preview else app.get(name)
            except FalyxError as exc:
                if ctx.resilient_parsing:  # shell completion: stay quiet
                    return None
                jobs.fail(str(exc), exc.exit_code)
            if isinstance(entry, Submenu):
                return _tree_command(name.upper(), f"The commands of the menu "
                                     f"{entry.description!r}.", entry.preview)
            keyed = copy(subcommand(ctx.parent, entry, app))  # listed, shown under its key
            keyed.name = name.upper()
            return keyed.for_preview() if preview else keyed

        def resolve_command(self, ctx: typer.Context, args: list[str]) -> Any:
            name, command, rest = super().resolve_command(ctx, args)
            if preview and not rest and not ctx.resilient_parsing and name is not None:
                entry = app.entry(name)  # `preview R` alone: no value to convert, no parsing
                if not isinstance(entry, Submenu):
                    command = _tree_command(name, command.help, lambda: app.preview(entry))
            return name, command, rest

    return KeyedGroup


def _tree_command(name: str, doc: str, tree: Callable[[], Any]) -> Any:
    """A command without options that shows a preview tree: `preview O` (a submenu's
    commands), `preview R` (with no arguments given)."""

    def register(t: typer.Typer) -> None:
        @t.command(name=name, help=doc, cls=BuiltinCommand)
        def show() -> None:
            from falyx.render import render_preview

            render_preview(tree())

    return build_single(register)


def lazy_run(app: Falyx) -> LazyCommand:
    """`run`: a group whose subcommands are the keys; its own options are the run options,
    given before KEY."""
    return _lazy_keyed(app, "run", RUN_HELP, preview=False)


def lazy_preview(app: Falyx) -> LazyCommand:
    """`preview`: a group whose subcommands are the keys, parsed with nothing required."""
    return _lazy_keyed(app, "preview", PREVIEW_HELP, preview=True)


def _lazy_keyed(app: Falyx, name: str, doc: str, *, preview: bool) -> LazyCommand:
    return LazyCommand(name, doc, build=lambda: build_single(
        lambda t: _add_callback(t, name, doc, with_run_options=not preview), name=name,
        cls=_keyed_group_class(app, preview=preview), invoke_without_command=True,
        subcommand_metavar="KEY [ARGS]..."))


def _add_callback(t: typer.Typer, name: str, doc: str, *, with_run_options: bool) -> None:
    def invoke(**values: Any) -> None:
        ctx: typer.Context = values.pop("falyx_ctx")
        if ctx.invoked_subcommand is None:
            jobs.fail(f"missing KEY: {name} KEY [ARGS] (the 'help' command lists the keys)")
        ctx.meta[OUTER] = values  # run options given before KEY

    params = [context_parameter(), *(run_parameters() if with_run_options else ())]
    t.callback(help=doc)(make_callback(invoke, params, name, doc))
