"""The headless CLI: a Typer app compiled from the registry (`build_typer`), and `run_argv`.

One argument model (DESIGN §2.6): each command's Typer subcommand parses and converts its
arguments, and every other path goes through that same subcommand — `run` is a group whose
subcommands are those, keyed; `run-all` and the menu's `KEY --opt v` line use
`parse_command` — so a function receives the same values whichever way it was called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import ExitStack
from copy import copy
from typing import TYPE_CHECKING, Any

import typer
import typer.core

from falyx.cli import jobs
from falyx.cli.conversion import OwnOptions
from falyx.cli.lazy import LazyCommand, build_single, lazy_group_class
from falyx.cli.options import (
    RETRY_OVERRIDES,
    RUN_KEYS,
    context_parameter,
    literal,
    make_callback,
    option_parameter,
    run_parameters,
)
from falyx.errors import FalyxError, UsageError
from falyx.submenu import find_command

if TYPE_CHECKING:  # the runner (asyncio, signals, prompts) loads when something runs
    from falyx.app import Falyx
    from falyx.command import Command
    from falyx.runner import RunRequest, Session
    from falyx.submenu import Submenu

__all__ = ["build_typer", "complete_keys", "line_parser", "parse_command", "run_job"]

# Keys in the context tree's shared `meta`. _OUTER: run options given outside the command's
# subcommand (`run -y KEY`, `run-all --json`). _PARSE_ONLY: set while `parse_command` runs a
# subcommand, which then hands its request back instead of running it.
_OUTER = "falyx.outer_run_options"
_PARSE_ONLY = "falyx.parse_only"
def _request(command: Command, values: dict[str, Any], outer: Mapping[str, Any]) -> RunRequest:
    """Split converted values into the command's own arguments and the run options.

    A run option not given to the subcommand is taken from `outer` (given before KEY).
    """
    from falyx.runner import RunRequest

    run = {}
    for key in RUN_KEYS:
        value = values.pop(key, None)
        run[key] = outer.get(key, value) if value is None or value is False else value
    return RunRequest(
        command, values,
        skip_confirm=bool(run["falyx_skip_confirm"]), force_confirm=bool(run["falyx_confirm"]),
        summary=bool(run["falyx_summary"]), json=bool(run["falyx_json"]),
        overrides={field: run[key] for key, field in RETRY_OVERRIDES.items()
                   if run[key] is not None},
    )


def _keep_open(ctx: typer.Context) -> ExitStack:
    """Take over what `ctx` would close (files opened for `typer.FileText` parameters & co).

    The job runs after parsing has finished and closed its contexts; the files must stay open
    until the command is done. Click has no public call for this hand-over.
    """
    stack = getattr(ctx, "_exit_stack", None)
    return stack.pop_all() if isinstance(stack, ExitStack) else ExitStack()


def run_job(
    app: Falyx, session: Session, request: RunRequest, resources: ExitStack | None = None
) -> jobs.Job:
    """The job that runs one request, then closes what its parsing opened."""

    async def job() -> int:
        from falyx.runner import execute

        with resources or ExitStack():
            jobs.start(app, session)
            return await execute(app, request, session)

    return job


def parse_command(
    parent: typer.Context, command: Command, tokens: list[str],
    outer: Mapping[str, Any] | None = None, app: Falyx | None = None,
) -> tuple[RunRequest, ExitStack]:
    """Parse `tokens` with `command`'s subcommand, converted exactly as Typer converts them.

    `parent` is the context of the group holding the subcommand, or with `app` (the app that
    group was built from), of a group above it: the subcommand is then found through the
    sub-groups of the submenus on the way. `outer` holds run options given outside it.
    Returns the request and what to close once it has run.

    Raises:
        typer.TyperException: bad input (Typer's usage errors; the CLI prints it, exit 2).
        typer.Exit: `--help` was asked for and has been printed.
    """
    sub = subcommand(parent, command, app)
    meta = parent.meta
    meta[_PARSE_ONLY], meta[_OUTER] = True, dict(outer or {})
    try:
        with sub.make_context(command.cli_name, list(tokens), parent=parent) as sub_ctx:
            request = sub.invoke(sub_ctx)
            return request, _keep_open(sub_ctx)
    finally:
        meta.pop(_PARSE_ONLY, None)
        meta.pop(_OUTER, None)


def subcommand(parent: typer.Context, command: Command, app: Falyx | None = None) -> Any:
    """`command`'s Click command in the group of `parent` (built from `app`, when given: then
    also a command of one of its submenus, found in their sub-groups)."""
    group: Any = parent.command
    path = find_command(app, command) if app is not None else None
    for submenu in path or ():
        group = group.get_command(parent, submenu.cli_name)
    return group.get_command(parent, command.cli_name)


def line_parser(
    parent: typer.Context, app: Falyx | None = None,
) -> Callable[[Command, list[str]], tuple[RunRequest, ExitStack] | None]:
    """For the menu: parse the words typed after a key, or raise `UsageError` with Typer's
    message (None when the words asked for `--help`, which has been printed). `parent` is
    the context of the group built from `app` (the root's, for a menu with submenus)."""

    def parse(command: Command, tokens: list[str]) -> tuple[RunRequest, ExitStack] | None:
        try:
            return parse_command(parent, command, tokens, app=app)
        except typer.Exit:
            return None
        except typer.TyperException as exc:
            raise UsageError(f"{command.key}: {exc.format_message()}") from None

    return parse


def _lazy_command(app: Falyx, command: Command) -> LazyCommand:
    """The command's subcommand, built when first resolved."""
    doc = literal(command.help_text or command.description)
    short = literal(command.description)

    def register(t: typer.Typer) -> None:
        _add_command(t, app, command, doc, short)

    return LazyCommand(command.cli_name or command.key, doc, short_help=short,
                       hidden=command.hidden, build=lambda: build_single(register))


class CommandWithRunOptions(OwnOptions, typer.core.TyperCommand):
    """A command's subcommand: its run options (and `--help`) are falyx's, the rest the
    user's, converted by Typer."""

    own_options = frozenset({*RUN_KEYS, "help"})


def _add_command(t: typer.Typer, app: Falyx, command: Command, doc: str, short: str) -> None:
    params = [context_parameter(), *map(option_parameter, command.parameters()),
              *run_parameters()]

    def invoke(**values: Any) -> RunRequest | None:
        ctx: typer.Context = values.pop("falyx_ctx")
        request = _request(command, values, ctx.meta.get(_OUTER) or {})
        if ctx.meta.get(_PARSE_ONLY):
            return request
        jobs.dispatch(run_job(app, jobs.session_of(ctx), request, _keep_open(ctx)))
        return None

    t.command(name=command.cli_name, hidden=command.hidden, help=doc, short_help=short,
              cls=CommandWithRunOptions)(
        make_callback(invoke, params, command.cli_name or command.key, doc))


def complete_keys(app: Falyx, menus: bool = False) -> Callable[[str], list[str]]:
    """Shell completion of command keys and aliases (and submenu keys, with `menus`), in
    lower case after a lower-case start."""

    def complete(incomplete: str) -> list[str]:
        lower = incomplete.islower()
        keys = [*_keys(app), *(app.submenus if menus else ())]
        return [k.lower() if lower else k for k in keys if k.lower().startswith(incomplete.lower())]

    return complete


def _keys(app: Falyx) -> list[str]:
    return [k for c in app.visible_commands() for k in (c.key, *c.aliases)]


def _run_group_class(app: Falyx) -> type[typer.core.TyperGroup]:
    """`run`'s class: its subcommands are the keys, each one the command's own subcommand.

    So `run KEY ARGS` parses, converts, helps and completes exactly as the named subcommand.
    """

    class RunGroup(OwnOptions, typer.core.TyperGroup):
        def list_commands(self, ctx: typer.Context) -> list[str]:
            return _keys(app)

        def shell_complete(self, ctx: typer.Context, incomplete: str) -> list[Any]:
            if not (incomplete[:1].isalpha() and incomplete.islower()):
                return super().shell_complete(ctx, incomplete)
            items = super().shell_complete(ctx, incomplete.upper())  # keys are upper case
            for item in items:
                item.value = item.value.lower()
            return items

        def get_command(self, ctx: typer.Context, name: str) -> Any:
            try:
                command = app.get(name)
            except FalyxError as exc:
                if ctx.resilient_parsing:  # shell completion: stay quiet
                    return None
                jobs.fail(str(exc), exc.exit_code)
            keyed = copy(subcommand(ctx.parent, command, app))  # listed, shown under its key
            keyed.name = name.upper()
            return keyed

    return RunGroup


_RUN_HELP = "Run a command by key or alias (any case): run KEY [ARGS]"


def _lazy_run(app: Falyx) -> LazyCommand:
    """`run`: a group whose subcommands are the keys."""
    return LazyCommand("run", _RUN_HELP, build=lambda: build_single(
        lambda t: _add_run(t, app), name="run", cls=_run_group_class(app),
        invoke_without_command=True, subcommand_metavar="KEY [ARGS]..."))


def _add_run(run: typer.Typer, app: Falyx) -> None:
    def invoke(**values: Any) -> None:
        ctx: typer.Context = values.pop("falyx_ctx")
        if ctx.invoked_subcommand is None:
            jobs.fail("missing KEY: run KEY [ARGS] (the 'help' command lists the keys)")
        ctx.meta[_OUTER] = values  # run options given before KEY

    params = [context_parameter(), *run_parameters()]
    run.callback(help=_RUN_HELP)(make_callback(invoke, params, "run", _RUN_HELP))


def build_typer(app: Falyx) -> typer.Typer:
    """Compile the registry into a `typer.Typer` (a pure function of the registry).

    Its subcommands (the commands, the built-ins, the submenus' sub-groups, `run`) are built
    on first use (`falyx.cli.lazy`); the global options are the callback's.
    """
    from falyx.cli import builtins as builtins_cli

    t = typer.Typer(name=app.program, help=literal(app.title), add_completion=True,
                    rich_markup_mode="rich", cls=lazy_group_class(_entries(app)),
                    context_settings=_CONTEXT)
    builtins_cli.add_callback(t, app)
    return t


_CONTEXT = {"help_option_names": ["-h", "--help"]}
SUBMENU_PANEL = "Submenus"


def _entries(app: Falyx) -> list[LazyCommand]:
    """`app`'s subcommands, in the order Typer lists them: its commands, the built-ins, its
    submenus as sub-groups, then `run`."""
    from falyx.cli import builtins as builtins_cli

    return [*(_lazy_command(app, c) for c in app.commands.values()),
            *builtins_cli.lazy_builtins(app), *map(_lazy_submenu, app.submenus.values()),
            _lazy_run(app)]


def _lazy_submenu(submenu: Submenu) -> LazyCommand:
    """A mounted app as the sub-group `submenu.cli_name`, with everything a root app has
    (commands, `run`, `run-all`, `preview`, `history`, `help`, its own submenus) except the
    global options, which stay on the root (DESIGN §2.12)."""
    from falyx.cli import builtins as builtins_cli

    doc = literal(submenu.app.title)
    short = literal(f"{submenu.description} (menu {submenu.key})")
    return LazyCommand(submenu.cli_name, doc, short_help=short, panel=SUBMENU_PANEL,
                       build=lambda: build_single(
                           lambda group: builtins_cli.add_group_callback(group, submenu.app),
                           name=submenu.cli_name, cls=lazy_group_class(_entries(submenu.app)),
                           help=doc, short_help=short, rich_help_panel=SUBMENU_PANEL,
                           context_settings=_CONTEXT))
