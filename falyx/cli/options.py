"""Typer's view of a command: its options (user help shown literally), the run options, the
callback signature Typer reads, and a clear error for a parameter Typer cannot convert."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from copy import copy
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
import typer.main
import typer.models

from falyx.action.parameters import REQUIRED_OPTION
from falyx.errors import RegistrationError
from falyx.signature import cli_annotation

if TYPE_CHECKING:
    from falyx.app import Falyx

__all__ = [
    "RETRY_OVERRIDES", "RUN_KEYS", "compile_app", "context_parameter", "literal",
    "make_callback", "option_parameter", "run_parameters",
]

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
#: The run options that override fields of the retry policy.
RETRY_OVERRIDES = {"falyx_retries": "max_retries", "falyx_retry_delay": "delay",
                   "falyx_retry_backoff": "backoff"}
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


def run_parameters() -> list[inspect.Parameter]:
    """The run options, as keyword parameters of a Typer callback."""
    return [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[kind, opt],
                          default=None if kind is not bool else False)
        for name, kind, opt in RUN_OPTIONS
    ]


def context_parameter() -> inspect.Parameter:
    """`falyx_ctx: typer.Context`: Typer passes the Click context to the callback."""
    return inspect.Parameter("falyx_ctx", inspect.Parameter.KEYWORD_ONLY,
                             annotation=typer.Context)


def option_parameter(param: inspect.Parameter) -> inspect.Parameter:
    """A step's parameter as Typer should read it: a type, and user help shown literally."""
    annotation, default = cli_annotation(param), param.default
    if hasattr(annotation, "__metadata__"):  # Annotated[T, typer.Option(help=...), ...]
        metadata = tuple(_literal_info(m) for m in annotation.__metadata__)
        annotation = Annotated[(annotation.__origin__, *metadata)]  # type: ignore[valid-type]
    if default is REQUIRED_OPTION:  # keyword-only without a default: a required --option
        if hasattr(annotation, "__metadata__"):
            return param.replace(annotation=annotation, default=inspect.Parameter.empty)
        return param.replace(annotation=annotation, default=typer.Option(...))
    default = _literal_info(default)
    return param.replace(annotation=annotation, default=default)


def _literal_info(info: Any) -> Any:
    """A copy of a `typer.Option`/`typer.Argument` whose help is shown literally."""
    if not isinstance(info, typer.models.ParameterInfo) or not info.help:
        return info
    info = copy(info)
    info.help = literal(info.help)
    return info


def make_callback(fn: Callable[..., Any], params: list[inspect.Parameter], name: str, doc: str):
    """A function Typer can read: `fn(**values)` behind the given signature."""

    def callback(**values: Any) -> Any:
        return fn(**values)

    callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    callback.__annotations__ = {p.name: p.annotation for p in params}
    callback.__name__ = name.replace("-", "_")
    callback.__doc__ = doc
    return callback


def compile_app(app: Falyx) -> Any:
    """The Click command Typer compiles from `app.typer`.

    Raises:
        RegistrationError: a parameter Typer cannot turn into an option (`dict`, a Union...),
            naming the command and the parameter.
    """
    from falyx.submenu import subtree

    try:
        group = typer.main.get_command(app.typer)
        for member in subtree(app):  # subcommands are built on first use: check them now
            for command in member.commands.values():
                _compile_parameters(command.parameters())
    except Exception as exc:
        _name_unsupported_parameter(app, exc)
        raise
    return group


def _compile_parameters(params: list[inspect.Parameter]) -> None:
    """Turn a command's own parameters into Click options, to refuse a bad one at start-up."""
    if params:
        probe = typer.Typer(add_completion=False)
        probe.command()(make_callback(lambda **_: None, list(map(option_parameter, params)),
                                      "probe", ""))
        typer.main.get_command(probe)


def _name_unsupported_parameter(app: Falyx, error: Exception) -> None:
    """Compile each parameter alone to find the one Typer refused (only after a failure),
    in the app's submenus too."""
    from falyx.submenu import subtree

    for command in (c for member in subtree(app) for c in member.commands.values()):
        for param in command.parameters():
            alone = typer.Typer(add_completion=False)
            alone.command()(make_callback(lambda **_: None, [option_parameter(param)], "p", ""))
            try:
                typer.main.get_command(alone)
            except Exception as exc:
                raise RegistrationError(
                    f"command {command.key!r}: parameter '{param.name}' cannot be a command-line "
                    f"option ({type(exc).__name__}: {exc}); change its annotation, or fill it "
                    "with the step's kwargs=") from error
