"""A command's parameters as the command line sees them: option names and reserved names.

Typer turns each parameter into an option or a positional argument by rules this module
mirrors (without importing typer, so registration stays cheap): a parameter without a
default is an argument, others are `--name` options (`--name/--no-name` for a bool), and
`Annotated[T, typer.Option("--out", "-o")]` or `typer.Argument()` decide it explicitly.
"""

from __future__ import annotations

import enum
import inspect
import pathlib
import types
import typing
from collections.abc import Iterable
from typing import Annotated, Any

from falyx.errors import RegistrationError

__all__ = [
    "RESERVED_OPTIONS", "RUN_OPTION_NAMES", "check_cli_parameters", "cli_annotation",
    "option_names",
]

#: The run options every command's subcommand takes (§2.6), long names first.
RUN_OPTION_NAMES = ("--skip-confirm", "--confirm", "--summary", "--retries", "--retry-delay",
                    "--retry-backoff", "--json", "-y")
#: Options of `run` and of the program itself; a command's parameter may not take them.
RESERVED_OPTIONS = frozenset({
    *RUN_OPTION_NAMES,
    "--menu", "-n", "--never-prompt", "-v", "--verbose", "--log-format", "--history",
    "--version", "--executor", "-h", "--help",                      # global options
    "--install-completion", "--show-completion",                    # Typer's completion
})
#: Parameter names the CLI uses for its own values.
_INTERNAL_PREFIX = "falyx_"
_PLAIN_TYPES = (str, int, float, bool)


def _typer_info(param: inspect.Parameter) -> Any:
    """The `typer.Option(...)`/`typer.Argument(...)` of a parameter, or None."""
    if typing.get_origin(param.annotation) is Annotated:
        for meta in param.annotation.__metadata__:
            if _info_kind(meta):
                return meta
    return param.default if _info_kind(param.default) else None


def _info_kind(obj: Any) -> str | None:
    """'option' or 'argument' for Typer's parameter-info objects (told apart by class name)."""
    for cls in type(obj).__mro__:
        if cls.__name__ == "OptionInfo":
            return "option"
        if cls.__name__ == "ArgumentInfo":
            return "argument"
    return None


def _base_type(annotation: Any) -> Any:
    """`Annotated[Optional[bool], ...]` -> `bool`."""
    if typing.get_origin(annotation) is Annotated:
        annotation = annotation.__origin__
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def option_names(param: inspect.Parameter) -> list[str]:
    """The option names Typer gives `param` (`[]` when it becomes a positional argument)."""
    info = _typer_info(param)
    if info is None:
        if param.default is inspect.Parameter.empty:
            return []
        flag = param.name.replace("_", "-")
        is_bool = _base_type(cli_annotation(param)) is bool
        return [f"--{flag}", f"--no-{flag}"] if is_bool else [f"--{flag}"]
    if _info_kind(info) == "argument":
        return []
    declared = list(getattr(info, "param_decls", None) or ())
    if info is not param.default and isinstance(info.default, str):  # Annotated form
        declared.insert(0, info.default)
    if not declared:
        return option_names(param.replace(annotation=_base_type(param.annotation),
                                          default=None))
    # Click's order: the first name of each declaration, then the `/`-separated second ones
    parts = [[name.strip() for name in decl.split("/")] for decl in declared]
    names = [p[0] for p in parts] + [name for p in parts for name in p[1:]]
    return [name for name in names if name.startswith("-")]


def check_cli_parameters(command: str, params: Iterable[inspect.Parameter]) -> None:
    """Refuse parameters the CLI cannot offer: an option falyx uses for itself (§2.6), a
    `falyx_` name, or an annotation that could not be resolved.

    Raises:
        RegistrationError: naming the parameter, the command and the problem.
    """
    for param in params:
        if isinstance(param.annotation, str):
            raise RegistrationError(
                f"command {command!r}: the annotation {param.annotation!r} of parameter "
                f"'{param.name}' cannot be resolved from its function's module; define or "
                "import that type at module level")
        if param.name.startswith(_INTERNAL_PREFIX):
            raise RegistrationError(
                f"command {command!r}: parameter '{param.name}' starts with "
                f"'{_INTERNAL_PREFIX}', which falyx keeps for its own options; rename it")
        taken = [name for name in option_names(param) if name in RESERVED_OPTIONS]
        if taken:
            raise RegistrationError(
                f"command {command!r}: parameter '{param.name}' would take the option "
                f"{taken[0]}, which falyx keeps for itself; rename the parameter or give it "
                "other option names with Annotated[..., typer.Option('--other')]")


def cli_annotation(param: inspect.Parameter) -> Any:
    """The annotation Typer reads: as written, else the default's type, else `str`."""
    if param.annotation is not inspect.Parameter.empty:
        return param.annotation
    default = param.default
    if type(default) in _PLAIN_TYPES or isinstance(default, enum.Enum):
        return type(default)
    if isinstance(default, pathlib.PurePath):
        return pathlib.Path
    return str
