"""The headless CLI: a Typer app compiled from the registry (`build_typer`), and `run_argv`."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
import typer.main

from falyx.cli import jobs
from falyx.runner import RunRequest, Session, execute
from falyx.signature import cli_parameters

if TYPE_CHECKING:
    from falyx.app import Falyx
    from falyx.command import Command

__all__ = ["build_typer", "run_argv"]

PANEL = "Run options"

RUN_OPTIONS: list[tuple[str, Any, Any]] = [
    ("falyx_skip_confirm", bool, typer.Option(
        "-y", "--skip-confirm", help="Run without asking for confirmation.",
        rich_help_panel=PANEL)),
    ("falyx_confirm", bool, typer.Option(
        "--confirm", help="Ask for confirmation even if the command does not.",
        rich_help_panel=PANEL)),
    ("falyx_summary", bool, typer.Option(
        "--summary", help="Print a table of every step after the run.", rich_help_panel=PANEL)),
    ("falyx_retries", Optional[int], typer.Option(
        "--retries", min=0, help="Override the number of retries.", rich_help_panel=PANEL)),
    ("falyx_retry_delay", Optional[float], typer.Option(
        "--retry-delay", min=0.0, help="Override the first retry delay (seconds).",
        rich_help_panel=PANEL)),
    ("falyx_retry_backoff", Optional[float], typer.Option(
        "--retry-backoff", min=0.0, help="Override the backoff multiplier.",
        rich_help_panel=PANEL)),
    ("falyx_json", bool, typer.Option(
        "--json", help="Print one JSON result object on stdout.", rich_help_panel=PANEL)),
]
RUN_KEYS = [name for name, _, _ in RUN_OPTIONS]
_OVERRIDES = {"falyx_retries": "max_retries", "falyx_retry_delay": "delay",
              "falyx_retry_backoff": "backoff"}
_EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}
_HELP = ("-h", "--help")


def _run_parameters() -> list[inspect.Parameter]:
    return [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[kind, opt],
                          default=None if kind is not bool else False)
        for name, kind, opt in RUN_OPTIONS
    ]


def _context_parameter() -> inspect.Parameter:
    return inspect.Parameter("falyx_ctx", inspect.Parameter.KEYWORD_ONLY,
                             annotation=typer.Context)


def _make_callback(fn: Callable[..., None], params: list[inspect.Parameter], name: str, doc: str):
    """A function Typer can read: `fn(**values)` behind the given signature."""

    def callback(**values: Any) -> None:
        fn(**values)

    callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    callback.__annotations__ = {p.name: p.annotation for p in params}
    callback.__name__ = name.replace("-", "_")
    callback.__doc__ = doc
    return callback


def _request(command: Command, values: dict[str, Any]) -> RunRequest:
    """Split parsed values into the command's own arguments and the run options."""
    run = {key: values.pop(key, None) for key in RUN_KEYS}
    values.pop("falyx_ctx", None)
    return RunRequest(
        command, values,
        skip_confirm=bool(run["falyx_skip_confirm"]), force_confirm=bool(run["falyx_confirm"]),
        summary=bool(run["falyx_summary"]), json=bool(run["falyx_json"]),
        overrides={field: run[key] for key, field in _OVERRIDES.items() if run[key] is not None},
    )


def _run_job(app: Falyx, session: Session, request: RunRequest) -> jobs.Job:
    async def job() -> int:
        jobs.start(app, session)
        return await execute(app, request, session)

    return job


def _add_command(t: typer.Typer, app: Falyx, command: Command) -> None:
    params = [_context_parameter(), *cli_parameters(command), *_run_parameters()]

    def invoke(**values: Any) -> None:
        session = jobs.session_of(values["falyx_ctx"])
        jobs.dispatch(_run_job(app, session, _request(command, values)))

    doc = command.help_text or command.description
    t.command(name=command.cli_name, hidden=command.hidden, help=doc,
              short_help=command.description)(
        _make_callback(invoke, params, command.cli_name or command.key, doc))


def _add_run(t: typer.Typer, app: Falyx) -> None:
    def complete_key(incomplete: str) -> list[str]:
        keys = [k for c in app.visible_commands() for k in (c.key, *c.aliases)]
        return [k for k in keys if k.lower().startswith(incomplete.lower())]

    key_param = inspect.Parameter(
        "falyx_key", inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[Optional[str], typer.Argument(
            metavar="KEY", help="Command key or alias (any case).", autocompletion=complete_key,
            show_default=False)], default=None)

    def invoke(**values: Any) -> None:
        ctx: typer.Context = values["falyx_ctx"]
        key = values.pop("falyx_key")
        wants_help = key in _HELP or any(arg in _HELP for arg in ctx.args)
        if wants_help and (key is None or key in _HELP):  # `run --help`: run's own help
            typer.echo(ctx.get_help())
            raise typer.Exit(0)
        if key is None:
            jobs.fail("missing KEY: run KEY [ARGS] (the 'help' command lists the keys)")
        command = jobs.lookup(app, key)
        sub = ctx.parent.command.get_command(ctx.parent, command.cli_name)  # type: ignore[union-attr]
        sub_ctx = sub.make_context(command.cli_name, list(ctx.args), parent=ctx.parent)
        parsed = dict(sub_ctx.params)
        for name in RUN_KEYS:  # run options may come before or after KEY
            if values.get(name) is not None and values.get(name) is not False:
                parsed[name] = values[name]
        parsed["falyx_ctx"] = ctx
        jobs.dispatch(_run_job(app, jobs.session_of(ctx), _request(command, parsed)))

    params = [_context_parameter(), key_param, *_run_parameters()]
    # No help option of its own: `run KEY --help` reaches the command, which shows its help.
    t.command(name="run", context_settings={**_EXTRA, "help_option_names": []},
              help="Run a command by key or alias: run KEY [ARGS]")(
        _make_callback(invoke, params, "run", "Run a command by key."))


def build_typer(app: Falyx) -> typer.Typer:
    """Compile the registry into a `typer.Typer` (a pure function of the registry)."""
    from falyx.cli import builtins as builtins_cli

    t = typer.Typer(name=app.program, help=app.title, add_completion=True,
                    context_settings={"help_option_names": ["-h", "--help"]})
    builtins_cli.add_callback(t, app)
    for command in app.commands.values():
        _add_command(t, app, command)
    _add_run(t, app)
    builtins_cli.add_builtins(t, app)
    return t


async def run_argv(app: Falyx, argv: list[str]) -> int:
    """Parse `argv` with the Typer app, then run what it asked for in this loop."""
    command = typer.main.get_command(app.typer)
    with jobs.collecting() as sink:
        try:
            command.main(args=list(argv), prog_name=app.program, standalone_mode=True)
            code: Any = 0
        except SystemExit as exc:
            code = exc.code
    if sink:
        return await sink[0]()
    return code if isinstance(code, int) else (0 if code is None else 1)
