"""Built-in CLI parts: global options, `preview`, `help`, `run-all` and `history`."""
# No `from __future__ import annotations` here: Typer reads these annotations at run time.


from enum import Enum
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from falyx.cli import jobs
from falyx.runner import RunRequest, Session

if TYPE_CHECKING:
    from falyx.app import Falyx


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
            from falyx import __version__

            typer.echo(f"{app.program} {app.version or __version__}")
            raise typer.Exit()

    @t.callback(invoke_without_command=True, help=app.title)
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
        version: Annotated[bool, typer.Option("--version", is_eager=True, callback=show_version,
                                              help="Show the version and exit.")] = False,
    ) -> None:
        ctx.obj = Session(never_prompt=never_prompt, verbose=verbose,
                          log_format=log_format.value, history=history)
        if ctx.invoked_subcommand is not None:
            return
        from falyx.prompts import has_terminal

        if menu or has_terminal():
            _menu(app, ctx.obj)
            return
        typer.echo(ctx.get_help())
        raise typer.Exit(2)


def _menu(app: "Falyx", session: Session) -> None:
    async def job() -> int:
        from falyx.prompts import has_terminal

        if not has_terminal():
            from falyx.render import render_error

            render_error("Error: --menu needs a terminal; run a command instead (see --help)")
            return 2
        jobs.start(app, session)
        from falyx.menu import run_menu

        return await run_menu(app, session)

    jobs.dispatch(job)


def add_builtins(t: typer.Typer, app: "Falyx") -> None:
    """`preview`, `help`, `run-all` and `history`."""

    @t.command("preview", help="Show the tree of what a command would run; run nothing.")
    def preview(key: Annotated[str, typer.Argument(metavar="KEY")]) -> None:
        from falyx.render import render_preview

        render_preview(jobs.lookup(app, key).preview())

    @t.command("help", help="List the commands, grouped by tag.")
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

    @t.command("run-all", help="Run every command with a tag, concurrently.")
    def run_all(
        ctx: typer.Context,
        tag: Annotated[str, typer.Option("-t", "--tag", help="Tag to run.")],
        skip_confirm: Annotated[bool, typer.Option("-y", "--skip-confirm")] = False,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        commands = [c for c in app.commands.values() if tag in c.tags]
        if not commands:
            jobs.fail(f"no command has the tag '{tag}'", 2)
        session = jobs.session_of(ctx)

        async def job() -> int:
            import asyncio

            from falyx.runner import execute

            jobs.start(app, session)
            requests = [RunRequest(c, skip_confirm=skip_confirm, json=as_json) for c in commands]
            codes = await asyncio.gather(*(execute(app, r, session) for r in requests))
            return max(codes)

        jobs.dispatch(job)

    @t.command("history", help="Show the execution history (persists across runs).")
    def history(
        ctx: typer.Context,
        status: Annotated[Optional[Status], typer.Option("--status", case_sensitive=False)] = None,
        name: Annotated[Optional[str], typer.Option("--name")] = None,
        command: Annotated[Optional[str], typer.Option("--command")] = None,
        limit: Annotated[int, typer.Option("--limit", min=1)] = 50,
        result_index: Annotated[Optional[int], typer.Option("--result-index")] = None,
        last_result: Annotated[bool, typer.Option("--last-result")] = False,
        run: Annotated[Optional[str], typer.Option("--run", metavar="ID")] = None,
        clear: Annotated[bool, typer.Option("--clear")] = False,
        skip_confirm: Annotated[bool, typer.Option("-y", "--skip-confirm")] = False,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        from falyx.history_view import HistoryQuery, show_history

        session = jobs.session_of(ctx)
        query = HistoryQuery(
            status=status.value if status else None, name=name, command=command, limit=limit,
            result_index=result_index, last_result=last_result, run=run, clear=clear,
            skip_confirm=skip_confirm, json=as_json,
        )

        async def job() -> int:
            jobs.start(app, session)
            return await show_history(app, query, session)

        jobs.dispatch(job)

