"""The headless CLI: a Typer app compiled from the registry (`build_typer`), and `run_argv`.

One argument model (DESIGN §2.6): each command's Typer subcommand parses and converts its
arguments, and every other path (`run KEY`, `run-all`, the menu's `KEY --opt v` line) goes
through that same subcommand with `parse_command`, so a function receives the same values
whichever way it was called.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from copy import copy
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
import typer.core
import typer.main
import typer.models

from falyx.cli import jobs
from falyx.errors import FalyxError, RegistrationError, UsageError
from falyx.runner import RunRequest, Session, execute
from falyx.signature import cli_annotation

if TYPE_CHECKING:
    from falyx.app import Falyx
    from falyx.command import Command

__all__ = ["build_typer", "line_parser", "literal", "parse_command", "run_argv", "run_job"]

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
# Keys in the context tree's shared `meta`. _OUTER: run options given outside the command's
# subcommand (`run -y KEY`, `run-all --json`). _PARSE_ONLY: set while `parse_command` runs a
# subcommand, which then hands its request back instead of running it.
_OUTER = "falyx.outer_run_options"
_PARSE_ONLY = "falyx.parse_only"
# A `[` with the backslashes before it; group 2 is set when rich would read a tag there.
_BRACKET = re.compile(r"(\\*)\[(?=([a-z#/@][^[]*?\])?)")

def literal(text: str) -> str:
    """`text` escaped so Typer's rich help shows it as written (`[beta]` stays `[beta]`).

    rich's rule (`rich.markup.escape`) for what would be a tag, plus a backslash before a
    `\\[` that is not one (rich would drop it). rich itself is not imported here: a quiet
    headless run must not load it.
    """
    return _BRACKET.sub(_escape_bracket, text)


def _escape_bracket(match: re.Match[str]) -> str:
    backslashes, tag = match[1], match[2]
    if tag is not None:
        return f"{backslashes}{backslashes}\\["
    return f"{backslashes}\\[" if backslashes else "["


def _run_parameters() -> list[inspect.Parameter]:
    return [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[kind, opt],
                          default=None if kind is not bool else False)
        for name, kind, opt in RUN_OPTIONS
    ]


def _context_parameter() -> inspect.Parameter:
    return inspect.Parameter("falyx_ctx", inspect.Parameter.KEYWORD_ONLY,
                             annotation=typer.Context)


def _option_parameter(param: inspect.Parameter) -> inspect.Parameter:
    """A step's parameter as Typer should read it: a type, and user help shown literally."""
    annotation, default = cli_annotation(param), param.default
    if hasattr(annotation, "__metadata__"):  # Annotated[T, typer.Option(help=...), ...]
        metadata = tuple(_literal_info(m) for m in annotation.__metadata__)
        annotation = Annotated[(annotation.__origin__, *metadata)]  # type: ignore[valid-type]
    default = _literal_info(default)
    return param.replace(annotation=annotation, default=default)


def _literal_info(info: Any) -> Any:
    """A copy of a `typer.Option`/`typer.Argument` whose help is shown literally."""
    if not isinstance(info, typer.models.ParameterInfo) or not info.help:
        return info
    info = copy(info)
    info.help = literal(info.help)
    return info


def _make_callback(fn: Callable[..., Any], params: list[inspect.Parameter], name: str, doc: str):
    """A function Typer can read: `fn(**values)` behind the given signature."""

    def callback(**values: Any) -> Any:
        return fn(**values)

    callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    callback.__annotations__ = {p.name: p.annotation for p in params}
    callback.__name__ = name.replace("-", "_")
    callback.__doc__ = doc
    return callback


def _request(command: Command, values: dict[str, Any], outer: Mapping[str, Any]) -> RunRequest:
    """Split converted values into the command's own arguments and the run options.

    A run option not given to the subcommand is taken from `outer` (given before KEY).
    """
    run = {}
    for key in RUN_KEYS:
        value = values.pop(key, None)
        run[key] = outer.get(key, value) if value is None or value is False else value
    return RunRequest(
        command, values,
        skip_confirm=bool(run["falyx_skip_confirm"]), force_confirm=bool(run["falyx_confirm"]),
        summary=bool(run["falyx_summary"]), json=bool(run["falyx_json"]),
        overrides={field: run[key] for key, field in _OVERRIDES.items() if run[key] is not None},
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
        with resources or ExitStack():
            jobs.start(app, session)
            return await execute(app, request, session)

    return job


def parse_command(
    parent: typer.Context, command: Command, tokens: list[str],
    outer: Mapping[str, Any] | None = None,
) -> tuple[RunRequest, ExitStack]:
    """Parse `tokens` with `command`'s subcommand, converted exactly as Typer converts them.

    `parent` is the context of the group holding the subcommand; `outer` holds run options
    given outside it. Returns the request and what to close once it has run.

    Raises:
        typer.TyperException: bad input (Typer's usage errors; the CLI prints it, exit 2).
        typer.Exit: `--help` was asked for and has been printed.
    """
    sub = parent.command.get_command(parent, command.cli_name)  # type: ignore[attr-defined]
    meta = parent.meta
    meta[_PARSE_ONLY], meta[_OUTER] = True, dict(outer or {})
    try:
        with sub.make_context(command.cli_name, list(tokens), parent=parent) as sub_ctx:
            request = sub.invoke(sub_ctx)
            return request, _keep_open(sub_ctx)
    finally:
        meta.pop(_PARSE_ONLY, None)
        meta.pop(_OUTER, None)


def line_parser(
    parent: typer.Context,
) -> Callable[[Command, list[str]], tuple[RunRequest, ExitStack] | None]:
    """For the menu: parse the words typed after a key, or raise `UsageError` with Typer's
    message (None when the words asked for `--help`, which has been printed)."""

    def parse(command: Command, tokens: list[str]) -> tuple[RunRequest, ExitStack] | None:
        try:
            return parse_command(parent, command, tokens)
        except typer.Exit:
            return None
        except typer.TyperException as exc:
            raise UsageError(f"{command.key}: {exc.format_message()}") from None

    return parse


def _add_command(t: typer.Typer, app: Falyx, command: Command) -> None:
    params = [_context_parameter(), *map(_option_parameter, command.parameters()),
              *_run_parameters()]

    def invoke(**values: Any) -> RunRequest | None:
        ctx: typer.Context = values.pop("falyx_ctx")
        request = _request(command, values, ctx.meta.get(_OUTER) or {})
        if ctx.meta.get(_PARSE_ONLY):
            return request
        jobs.dispatch(run_job(app, jobs.session_of(ctx), request, _keep_open(ctx)))
        return None

    doc = literal(command.help_text or command.description)
    t.command(name=command.cli_name, hidden=command.hidden, help=doc,
              short_help=literal(command.description))(
        _make_callback(invoke, params, command.cli_name or command.key, doc))


def complete_keys(app: Falyx) -> Callable[[str], list[str]]:
    """Shell completion of command keys and aliases (any case)."""

    def complete(incomplete: str) -> list[str]:
        return [k for k in _keys(app) if k.lower().startswith(incomplete.lower())]

    return complete


def _keys(app: Falyx) -> list[str]:
    return [k for c in app.visible_commands() for k in (c.key, *c.aliases)]


def _run_group_class(app: Falyx) -> type[typer.core.TyperGroup]:
    """`run`'s class: its subcommands are the keys, each one the command's own subcommand.

    So `run KEY ARGS` parses, converts, helps and completes exactly as the named subcommand.
    """

    class RunGroup(typer.core.TyperGroup):
        def list_commands(self, ctx: typer.Context) -> list[str]:
            return _keys(app)

        def get_command(self, ctx: typer.Context, name: str) -> Any:
            try:
                command = app.get(name)
            except FalyxError as exc:
                if ctx.resilient_parsing:  # shell completion: stay quiet
                    return None
                jobs.fail(str(exc), exc.exit_code)
            parent = ctx.parent
            named = parent.command.get_command(parent, command.cli_name)  # type: ignore
            keyed = copy(named)  # listed and shown under its key
            keyed.name = name.upper()
            return keyed

    return RunGroup


def _add_run(t: typer.Typer, app: Falyx) -> None:
    def invoke(**values: Any) -> None:
        ctx: typer.Context = values.pop("falyx_ctx")
        if ctx.invoked_subcommand is None:
            jobs.fail("missing KEY: run KEY [ARGS] (the 'help' command lists the keys)")
        ctx.meta[_OUTER] = values  # run options given before KEY

    doc = "Run a command by key or alias (any case): run KEY [ARGS]"
    run = typer.Typer(cls=_run_group_class(app), invoke_without_command=True,
                      subcommand_metavar="KEY [ARGS]...", rich_markup_mode="rich")
    params = [_context_parameter(), *_run_parameters()]
    run.callback(help=doc)(_make_callback(invoke, params, "run", doc))
    t.add_typer(run, name="run")


def build_typer(app: Falyx) -> typer.Typer:
    """Compile the registry into a `typer.Typer` (a pure function of the registry)."""
    from falyx.cli import builtins as builtins_cli

    t = typer.Typer(name=app.program, help=literal(app.title), add_completion=True,
                    rich_markup_mode="rich",
                    context_settings={"help_option_names": ["-h", "--help"]})
    builtins_cli.add_callback(t, app)
    for command in app.commands.values():
        _add_command(t, app, command)
    _add_run(t, app)
    builtins_cli.add_builtins(t, app)
    return t


def compile_app(app: Falyx) -> Any:
    """The Click command Typer compiles from `app.typer`.

    Raises:
        RegistrationError: a parameter Typer cannot turn into an option (`dict`, a Union...),
            naming the command and the parameter.
    """
    try:
        return typer.main.get_command(app.typer)
    except Exception as exc:
        _name_unsupported_parameter(app, exc)
        raise


def _name_unsupported_parameter(app: Falyx, error: Exception) -> None:
    """Compile each parameter alone to find the one Typer refused (only after a failure)."""
    for command in app.commands.values():
        for param in command.parameters():
            alone = typer.Typer()
            alone.command()(_make_callback(lambda **_: None, [_option_parameter(param)], "p", ""))
            try:
                typer.main.get_command(alone)
            except Exception as exc:
                raise RegistrationError(
                    f"command {command.key!r}: parameter '{param.name}' cannot be a command-line "
                    f"option ({type(exc).__name__}: {exc}); change its annotation, or fill it "
                    "with the step's kwargs=") from error


async def run_argv(app: Falyx, argv: list[str]) -> int:
    """Parse `argv` with the Typer app, then run what it asked for in this loop."""
    try:
        command = compile_app(app)
    except RegistrationError as exc:
        from falyx.render import render_error

        render_error(f"Error: {exc}")
        return exc.exit_code
    with jobs.collecting() as sink:
        try:
            command.main(args=list(argv), prog_name=app.prog_name, standalone_mode=True)
            code: Any = 0
        except SystemExit as exc:
            code = exc.code
    if sink:
        return await sink[0]()
    return code if isinstance(code, int) else (0 if code is None else 1)
