"""Built-in CLI parts: global options, `preview`, `help`, `run-all` and `history`."""
# No `from __future__ import annotations` here: Typer reads these annotations at run time.


from enum import Enum
from functools import partial
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from falyx.cli import jobs
from falyx.cli.core import missing_required, parse_command
from falyx.cli.keyed import PREVIEW_HELP, lazy_preview
from falyx.cli.lazy import BuiltinCommand, LazyCommand, build_single
from falyx.cli.options import literal
from falyx.submenu import mount_path

if TYPE_CHECKING:
    from falyx.app import Falyx
    from falyx.runner import Session


class LogFormat(str, Enum):
    rich = "rich"
    json = "json"


class Status(str, Enum):
    ok = "ok"
    error = "error"
    cancelled = "cancelled"


def add_callback(t: typer.Typer, app: "Falyx") -> None:
    """Global options, and the menu when no command is given on a terminal."""

    def show_version(value: bool) -> None:
        if value:
            typer.echo(version_line(app))
            raise typer.Exit()

    @t.callback(invoke_without_command=True, help=literal(app.title))
    def main(
        ctx: typer.Context,
        menu: Annotated[bool, typer.Option("--menu", help="Open the interactive menu.")] = False,
        never_prompt: Annotated[bool, typer.Option(
            "-n", "--never-prompt", help="Answer every prompt with its default.")] = False,
        verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Debug logs and "
                                              "tracebacks.")] = False,
        log_format: Annotated[LogFormat, typer.Option(
            "--log-format", envvar="FALYX_LOG_FORMAT", case_sensitive=False,
            help="Console log format.")] = LogFormat.rich,
        history: Annotated[Optional[str], typer.Option(
            "--history", metavar="PATH|off", help="History database, or 'off' for memory only "
            "(default: $FALYX_HISTORY or the state dir).")] = None,
        executor: Annotated[Optional[str], typer.Option(
            "--executor", envvar="FALYX_EXECUTOR", metavar="SPEC",
            help="Where process steps run: process[:N], thread[:N], dask[:N] or "
            "dask://HOST:PORT (default: process).")] = None,
        version: Annotated[bool, typer.Option("--version", is_eager=True, callback=show_version,
                                              help="Show the version and exit.")] = False,
    ) -> None:
        from falyx.runner import Session

        ctx.obj = Session(never_prompt=never_prompt, verbose=verbose,
                          log_format=log_format.value, history=history,
                          executor=jobs.check_executor_option(executor))
        if ctx.invoked_subcommand is not None:
            return
        from falyx.prompts import has_terminal

        if menu or has_terminal():
            _menu(app, ctx.obj, ctx)
            return
        typer.echo(ctx.get_help())
        raise typer.Exit(2)


def version_line(app: "Falyx") -> str:
    """`--version`: `tools 0.3.0` (the app's `version=`); without one, falyx's own version,
    named as such: `tools (falyx 0.1.0)`, or `falyx 0.1.0` for an app called falyx."""
    from falyx import __version__

    if app.version:
        return f"{app.program} {app.version}"
    if app.program == "falyx":
        return f"falyx {__version__}"
    return f"{app.program} (falyx {__version__})"


def add_group_callback(t: typer.Typer, app: "Falyx") -> None:
    """A mounted app's sub-group alone (`app.py ops`): its menu on a terminal, else its help
    and exit 2, as the root does."""

    @t.callback(invoke_without_command=True)
    def group(ctx: typer.Context) -> None:
        if ctx.invoked_subcommand is not None:
            return
        from falyx.prompts import has_terminal

        if has_terminal():
            _menu(app, jobs.session_of(ctx), ctx)
            return
        typer.echo(ctx.get_help())
        raise typer.Exit(2)


def _menu(app: "Falyx", session: "Session", ctx: typer.Context) -> None:
    """The menu, opened at `app` (a mounted app's menu has B to go back up)."""
    from falyx.cli.menu_line import line_parser

    root = ctx
    for _ in mount_path(app):  # the context of the root app's group (`app` may be mounted)
        root = root.parent
    parse = line_parser(root, app.root)

    async def job() -> int:
        from falyx.prompts import has_terminal

        if not has_terminal():
            from falyx.render import render_error

            render_error("Error: --menu needs a terminal; run a command instead (see --help)")
            return 2
        jobs.start(app, session)
        from falyx.menu import run_menu

        return await run_menu(app, session, parse=parse)

    jobs.dispatch(job)


_HELP = {
    "preview": PREVIEW_HELP,
    "help": "List the commands and submenus, grouped by tag.",
    "run-all": "Run every command with a tag, concurrently, each with its defaults (it takes "
               "no command options: run a command with a required option on its own).",
    "history": "Show the execution history (persists across runs; in a submenu, its runs).",
}


def lazy_builtins(app: "Falyx") -> list[LazyCommand]:
    """`preview`, `help`, `run-all` and `history`, each built on first use."""
    adders = {"help": _add_help, "run-all": _add_run_all, "history": _add_history}
    return [lazy_preview(app) if name == "preview" else
            LazyCommand(name, doc, build=partial(build_single, partial(adders[name], app=app)))
            for name, doc in _HELP.items()]


def _add_help(t: typer.Typer, app: "Falyx") -> None:
    @t.command("help", help=_HELP["help"], cls=BuiltinCommand)
    def help_(
        tag: Annotated[Optional[str], typer.Option(
            "-t", "--tag", help="Only the commands with this tag.")] = None,
    ) -> None:
        from falyx.errors import UsageError
        from falyx.render import render_commands

        try:
            render_commands(app, tag=tag)
        except UsageError as exc:
            jobs.fail(str(exc), exc.exit_code)


def _add_run_all(t: typer.Typer, app: "Falyx") -> None:
    def complete_tags(incomplete: str) -> list[str]:
        tags = dict.fromkeys(tag for c in app.visible_commands() for tag in c.tags)
        return [tag for tag in tags if tag.startswith(incomplete)]

    @t.command("run-all", help=_HELP["run-all"], cls=BuiltinCommand)
    def run_all(
        ctx: typer.Context,
        tag: Annotated[str, typer.Option("-t", "--tag", help="Tag to run.",
                                         autocompletion=complete_tags)],
        skip_confirm: Annotated[bool, typer.Option("-y", "--skip-confirm")] = False,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        commands = [c for c in app.commands.values() if tag in c.tags]
        if not commands:
            jobs.fail(f"no command has the tag '{tag}'", 2)
        for command in commands:  # before anything runs
            missing = missing_required(ctx.parent, command)
            if missing:
                jobs.fail(f"run-all runs each command with its defaults, and command "
                          f"{command.key} ({command.description}) has a required "
                          f"{' and a required '.join(missing)}; run it on its own: "
                          f"run {command.key} ...")
        session = jobs.session_of(ctx)
        # Each command's defaults, converted by its own subcommand as `run KEY` would.
        outer = {"falyx_skip_confirm": skip_confirm, "falyx_json": as_json}
        parsed = [parse_command(ctx.parent, c, [], outer) for c in commands]

        async def job() -> int:
            from contextlib import ExitStack
            from dataclasses import replace

            from falyx.runner import execute_all

            with ExitStack() as resources:
                for _, opened in parsed:
                    resources.enter_context(opened)
                jobs.start(app, session)
                requests = [replace(request, batch=True) for request, _ in parsed]
                return await execute_all(app, requests, session)

        jobs.dispatch(job)


def _add_history(t: typer.Typer, app: "Falyx") -> None:
    @t.command("history", help=_HELP["history"], cls=BuiltinCommand)
    def history(
        ctx: typer.Context,
        status: Annotated[Optional[Status], typer.Option("--status", case_sensitive=False)] = None,
        name: Annotated[Optional[str], typer.Option("--name")] = None,
        command: Annotated[Optional[str], typer.Option(
            "--command", help="Only this command's runs: a key, alias or name (any case), a "
            "submenu's command as O.R, all of submenu O's as O or O.*.")] = None,
        kind: Annotated[Optional[str], typer.Option(
            "--kind", help="Only this kind of step: Command, ChainedAction, ActionGroup, "
            "Action, ProcessAction, ShellAction, Rollback, ... (any case).")] = None,
        since: Annotated[Optional[str], typer.Option(
            "--since", metavar="AGE|DATE", help="Only records started since: an age (30m, 1h, "
            "2d) or a local date or time (2026-11-30, 2026-11-30T14:00).")] = None,
        limit: Annotated[int, typer.Option("--limit", min=1, help="Newest N records.")] = 50,
        result_index: Annotated[Optional[int], typer.Option(
            "--result-index", metavar="I", help="Print record I's result on stdout.")] = None,
        last_result: Annotated[bool, typer.Option(
            "--last-result", help="Print the newest command run's result on stdout.")] = False,
        run: Annotated[Optional[str], typer.Option(
            "--run", metavar="ID", help="One run as a tree (a unique prefix of its id).")] = None,
        clear: Annotated[bool, typer.Option("--clear", help="Delete the history.")] = False,
        skip_confirm: Annotated[bool, typer.Option("-y", "--skip-confirm")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    ) -> None:
        from falyx.history_view import HistoryQuery, parse_since, show_history
        from falyx.submenu import command_pattern

        session = jobs.session_of(ctx)
        if clear and app.mount is not None:  # one file for the whole tree: clear it at the top
            jobs.fail("history --clear deletes the whole history, which this submenu shares with "
                      "its root app; run it there")
        try:
            started = None if since is None else parse_since(since)
        except ValueError as exc:
            jobs.fail(str(exc))
        query = HistoryQuery(
            status=status.value if status else None, name=name,
            command=command_pattern(app, command), kind=kind,
            since=started, limit=limit, result_index=result_index, last_result=last_result,
            run=run, clear=clear, skip_confirm=skip_confirm, json=as_json,
            unknown_command=_unknown_command(app, command),
        )

        async def job() -> int:
            jobs.start(app, session)
            return await show_history(app, query, session)

        jobs.dispatch(job)


def _unknown_command(app: "Falyx", text: Optional[str]) -> Optional[str]:
    """Why `history --command TEXT` names no command or submenu of `app` (with a "did you
    mean"), or None when it does, or is a pattern (`O.*`)."""
    from falyx.errors import CommandNotFound
    from falyx.submenu import resolve_path

    if text is None or not text.strip() or "*" in text:
        return None
    try:
        resolve_path(app, text)
    except CommandNotFound as exc:
        return str(exc)
    return None
