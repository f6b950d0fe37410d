"""The headless CLI: a Typer app compiled from the registry (`build_typer`), and `run_argv`.

One argument model (DESIGN §2.6): each command's Typer subcommand parses and converts its
arguments, and every other path goes through that same subcommand — `run` and `preview` are
groups whose subcommands are those, keyed (`falyx.cli.keyed`); `run-all` and the menu's
`KEY --opt v` line use `parse_command` — so a function receives the same values whichever way
it was called, and a preview shows the values a run would get.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from falyx.submenu import find_command

if TYPE_CHECKING:  # the runner (asyncio, signals, prompts) loads when something runs
    from falyx.app import Falyx
    from falyx.command import Command
    from falyx.runner import RunRequest, Session
    from falyx.submenu import Submenu

__all__ = [
    "OUTER", "CommandWithRunOptions", "build_typer", "missing_required", "parse_command",
    "run_job", "subcommand",
]

# Keys in the context tree's shared `meta`. OUTER: run options given outside the command's
# subcommand (`run -y KEY`, `run-all --json`). _PARSE_ONLY: set while `parse_command` runs a
# subcommand, which then hands its request back instead of running it. _MISSING: where a
# preview's subcommand leaves the required options (and arguments) it was not given.
OUTER = "falyx.outer_run_options"
_PARSE_ONLY = "falyx.parse_only"
_MISSING = "falyx.missing_required"


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
    outer: Mapping[str, Any] | None = None, app: Falyx | None = None, *,
    name: str | None = None, preview: bool = False,
) -> tuple[RunRequest, ExitStack]:
    """Parse `tokens` with `command`'s subcommand, converted exactly as Typer converts them.

    `parent` is the context of the group holding the subcommand, or with `app` (the app that
    group was built from), of a group above it: the subcommand is then found through the
    sub-groups of the submenus on the way. `outer` holds run options given outside it. `name`
    is the command's name in usage lines (default: its CLI name). With `preview`, nothing is
    required and the request holds only the arguments given or defaulted.
    Returns the request and what to close once it has run.

    Raises:
        typer.TyperException: bad input (Typer's usage errors; the CLI prints it, exit 2).
        typer.Exit: `--help` was asked for and has been printed.
    """
    sub = subcommand(parent, command, app)
    if preview:
        sub = sub.for_preview()
    meta = parent.meta
    meta[_PARSE_ONLY], meta[OUTER] = True, dict(outer or {})
    try:
        with sub.make_context(name or command.cli_name, list(tokens), parent=parent) as sub_ctx:
            request = sub.invoke(sub_ctx)
            return request, _keep_open(sub_ctx)
    finally:
        for key in (_PARSE_ONLY, OUTER, _MISSING):
            meta.pop(key, None)


def missing_required(parent: typer.Context, command: Command) -> list[str]:
    """The required options and arguments of `command` (in the group of `parent`) that its
    defaults and the environment leave empty, named as Click does (`option '--env'`)."""
    sub = subcommand(parent, command).for_preview()
    meta = parent.meta
    meta[_PARSE_ONLY] = True
    try:
        with sub.make_context(command.cli_name, [], parent=parent) as sub_ctx:
            sub.invoke(sub_ctx)
            return list(meta.get(_MISSING, ()))
    finally:
        meta.pop(_PARSE_ONLY, None)
        meta.pop(_MISSING, None)


def subcommand(parent: typer.Context, command: Command, app: Falyx | None = None) -> Any:
    """`command`'s Click command in the group of `parent` (built from `app`, when given: then
    also a command of one of its submenus, found in their sub-groups)."""
    group: Any = parent.command
    path = find_command(app, command) if app is not None else None
    for submenu in path or ():
        group = group.get_command(parent, submenu.cli_name)
    return group.get_command(parent, command.cli_name)


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
    user's, converted by Typer. Its `for_preview()` copy requires nothing."""

    own_options = frozenset({*RUN_KEYS, "help"})
    preview_only = False
    _optional: dict[int, Any]

    def for_preview(self) -> CommandWithRunOptions:
        """A copy for `preview`: the same parameters, none required (a preview shows what
        would run with what is given), and its callback shows the tree instead of running."""
        preview = copy(self)
        preview.preview_only, preview._optional = True, {}
        return preview

    def get_params(self, ctx: typer.Context) -> list[Any]:
        params = super().get_params(ctx)
        if not self.preview_only:
            return params
        return [self._optional.setdefault(id(p), _optional(p)) if p.required else p
                for p in params]


def _optional(param: Any) -> Any:
    relaxed = copy(param)
    relaxed.required = False
    return relaxed


def _drop_missing(ctx: typer.Context, values: dict[str, Any]) -> None:
    """A preview's values less the required parameters left empty, named in the meta."""
    missing = [p for p in ctx.command.params if p.required and values.get(p.name) is None]
    for param in missing:
        values.pop(param.name, None)
    ctx.meta[_MISSING] = [_described(param) for param in missing]


def _described(param: Any) -> str:
    """`option '--env'` or `argument 'NAME'`, as Click names them in its messages."""
    if param.param_type_name == "argument":
        return f"argument '{param.name}'"
    return f"{param.param_type_name} " + " / ".join(f"'{name}'" for name in param.opts)


def _add_command(t: typer.Typer, app: Falyx, command: Command, doc: str, short: str) -> None:
    params = [context_parameter(), *map(option_parameter, command.parameters()),
              *run_parameters()]

    def invoke(**values: Any) -> RunRequest | None:
        ctx: typer.Context = values.pop("falyx_ctx")
        preview = ctx.command.preview_only
        if preview:
            _drop_missing(ctx, values)
        request = _request(command, values, ctx.meta.get(OUTER) or {})
        if ctx.meta.get(_PARSE_ONLY):
            return request
        if preview:
            from falyx.render import render_preview

            render_preview(app.preview(command, request.kwargs, overrides=request.overrides))
            return None
        jobs.dispatch(run_job(app, jobs.session_of(ctx), request, _keep_open(ctx)))
        return None

    t.command(name=command.cli_name, hidden=command.hidden, help=doc, short_help=short,
              cls=CommandWithRunOptions)(
        make_callback(invoke, params, command.cli_name or command.key, doc))


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
    from falyx.cli.keyed import lazy_run

    return [*(_lazy_command(app, c) for c in app.commands.values()),
            *builtins_cli.lazy_builtins(app), *map(_lazy_submenu, app.submenus.values()),
            lazy_run(app)]


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
