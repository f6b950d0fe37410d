"""The CLI's side of the menu's `KEY --opt v` lines (DESIGN §2.7): parsing the words with the
command's own subcommand, and completing them as the shell's completion does.

The menu knows no Typer (`falyx.menu` is below `falyx.cli`), so the CLI hands it a
`MenuLine` when it opens the menu. Usage lines and errors name the command as it is known
at the menu's prompt (`Usage: D [OPTIONS]`, `O.S` from the root), not as a CLI subcommand.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import typer

from falyx.cli.core import parse_command
from falyx.cli.jobs import usage_message
from falyx.errors import FalyxError, UsageError

if TYPE_CHECKING:
    from falyx.app import Falyx
    from falyx.command import Command
    from falyx.runner import RunRequest

try:  # Typer 0.29 runs on its own copy of Click
    from typer._click import shell_completion
except ImportError:  # Typer 0.28 runs on Click
    from click import shell_completion  # type: ignore[no-redef]

__all__ = ["MenuLine", "line_parser"]


class _MenuShell(shell_completion.ShellComplete):
    """Click's completion without a shell around it: the menu's prompt asks and shows the
    items itself."""

    name = "falyx-menu"
    source_template = ""

    def get_completions(self, args: list[str], incomplete: str) -> list[Any]:
        """Click's `get_completions` (the same private steps), and a path to complete where
        Typer leaves a `Path` parameter's completion to the shell."""
        ctx = shell_completion._resolve_context(self.cli, self.ctx_args, self.prog_name, args)
        target, incomplete = shell_completion._resolve_incomplete(ctx, args, incomplete)
        items = target.shell_complete(ctx, incomplete)
        kind = None if items else _path_kind(target)
        return [shell_completion.CompletionItem(incomplete, type=kind)] if kind else items

    def source_vars(self) -> dict[str, Any]:
        return {}

    def get_completion_args(self) -> tuple[list[str], str]:
        return [], ""

    def format_completion(self, item: Any) -> str:
        return str(item.value)


def _path_kind(param: Any) -> str | None:
    """`file` or `dir` for a parameter taking a path (Typer 0.29 describes it; Typer 0.28
    gives it a Click `Path` type), else None."""
    descriptor = getattr(param, "type_descriptor", None)
    if getattr(descriptor, "is_path", False):
        files = getattr(descriptor.parameter_info, "file_okay", True)
    elif hasattr(getattr(param, "type", None), "file_okay"):
        files = param.type.file_okay
    else:
        return None
    return "file" if files else "dir"


class MenuLine:
    """Parses (`__call__`) and completes (`complete`) the words typed after a key at the
    menu's prompt, with the CLI of `app` (the root app of the menu's tree)."""

    def __init__(self, parent: typer.Context, app: Falyx | None = None) -> None:
        group = parent.command
        # A context with no name above the command's: usage lines read `D [OPTIONS]`.
        self._ctx = group.make_context(None, [], resilient_parsing=True)
        self._ctx.obj = parent.obj
        self._app = app

    def __call__(
        self, command: Command, words: list[str], *, label: str | None = None,
        preview: bool = False,
    ) -> tuple[RunRequest, ExitStack] | None:
        """The request for `command` with `words`, and what to close after running it; None
        when the words asked for `--help` (printed). `label` is how the prompt names the
        command (default: its key). With `preview`, no option is required.

        Raises:
            UsageError: Typer's message on one line, after the label (`D: Missing option...`).
        """
        name = label or command.key
        if preview and not words:  # `?R` alone: no value to convert, as `preview R`
            from falyx.runner import RunRequest

            return RunRequest(command), ExitStack()
        try:
            return parse_command(self._ctx, command, words, app=self._app, name=name,
                                 preview=preview)
        except typer.Exit:
            return None
        except typer.TyperException as exc:
            raise UsageError(f"{name}: {usage_message(exc)}") from None

    def complete(self, app: Falyx, words: list[str], incomplete: str) -> list[tuple[str, str, str]]:
        """Completions of `incomplete` after `words` (a key of `app`'s menu, then its words):
        `(value, help, kind)` from Click's `shell_complete` of the command, its options and
        their types (choices, ...); `kind` is `plain`, or `file`/`dir` for a path to complete."""
        try:
            command = app.get(words[0])
        except (FalyxError, IndexError):
            return []
        args = ["run", app.label(command), *words[1:]]
        try:
            items = _MenuShell(self._ctx.command, {}, "", "").get_completions(args, incomplete)
        except (typer.TyperException, typer.Exit, FalyxError):  # a word the CLI refuses
            return []
        return [(str(i.value), i.help or "", i.type) for i in items]


def line_parser(parent: typer.Context, app: Falyx | None = None) -> MenuLine:
    """For the menu: the `MenuLine` of the CLI whose root group's context is `parent` (built
    from `app`, the root app, needed for a menu with submenus)."""
    return MenuLine(parent, app)
