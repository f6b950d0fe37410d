"""Subcommands built on first use: Click's lazy loading through `get_command` (DESIGN §1).

Building a subcommand reads its callback's signature and turns every parameter into a Click
option (falyx's commands each carry the seven run options); one invocation uses one
subcommand. So a group (the root's, a submenu's) knows each subcommand as a `LazyCommand` —
its name, help and whether it is hidden, and how to build it — and builds it when it is
resolved. While the group only lists its subcommands (its own `--help`, completion of their
names), a stub stands in for each one not built yet: a parameterless command with the same
name, help and short help, all that listing reads, so the help shown is the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer
import typer.core
import typer.main

from falyx.cli.conversion import OwnOptions

__all__ = ["BuiltinCommand", "LazyCommand", "build_single", "lazy_group_class"]


class BuiltinCommand(OwnOptions, typer.core.TyperCommand):
    """A built-in subcommand (`preview`, `history`, ...): all its options are falyx's own."""


class LazyCommand:
    """A subcommand of a lazy group: what listing shows, and how to build it.

    (A plain class: a dataclass would cost more to define than the lazy building saves.)
    """

    __slots__ = ("build", "help", "hidden", "name", "panel", "short_help")

    def __init__(self, name: str, help: str, build: Callable[[], Any], *,
                 short_help: str | None = None, hidden: bool = False,
                 panel: str | None = None) -> None:
        self.name, self.help, self.build = name, help, build  # build() -> the Click command
        self.short_help, self.hidden, self.panel = short_help, hidden, panel

    def stub(self) -> typer.core.TyperCommand:
        """A parameterless command with this one's name, help and help panel."""
        return typer.core.TyperCommand(name=self.name, help=self.help, hidden=self.hidden,
                                       short_help=self.short_help, rich_help_panel=self.panel)


def build_single(register: Callable[[typer.Typer], None], **settings: Any) -> Any:
    """The Click command of a Typer app that `register` gives exactly one command (or a
    callback and subcommands: then the group), compiled alone with Typer's public
    `typer.main.get_command`."""
    single = typer.Typer(add_completion=False, rich_markup_mode="rich", **settings)
    register(single)
    return typer.main.get_command(single)


def lazy_group_class(commands: Sequence[LazyCommand]) -> type[typer.core.TyperGroup]:
    """The class of a group of falyx's (`typer.Typer(cls=...)`: the root's, a submenu's):
    `commands` built on first use, listed in this order. The group's own options (its
    callback's) are falyx's own."""

    class LazyGroup(OwnOptions, typer.core.TyperGroup):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._unbuilt = {c.name: c.build for c in commands}
            self._listing = False
            for lazy in commands:
                self.commands[lazy.name] = lazy.stub()

        def get_command(self, ctx: Any, cmd_name: str) -> Any:
            build = self._unbuilt.get(cmd_name)
            if build is not None and not self._listing:
                self.commands[cmd_name] = build()
                del self._unbuilt[cmd_name]
            return super().get_command(ctx, cmd_name)

        @contextmanager
        def _stubs(self) -> Iterator[None]:
            self._listing = True
            try:
                yield
            finally:
                self._listing = False

        def format_help(self, ctx: Any, formatter: Any) -> None:
            with self._stubs():
                super().format_help(ctx, formatter)

        def shell_complete(self, ctx: Any, incomplete: str) -> list[Any]:
            with self._stubs():  # the names of subcommands; their options resolve for real
                return super().shell_complete(ctx, incomplete)

    return LazyGroup
