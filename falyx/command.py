"""`Command`: a registered step with a key, a description and how to run it."""

from __future__ import annotations

import datetime
import enum
import inspect
import logging
import sys
from collections.abc import Iterable, Mapping
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from falyx.action.action import to_action
from falyx.action.base import BaseAction, PreviewNode
from falyx.errors import InvalidActionError
from falyx.hooks import HookType
from falyx.retry import RetryPolicy, RetrySpec, resolve_retry

if TYPE_CHECKING:
    from falyx.action.options import RunOptions
    from falyx.context import ExecutionContext

__all__ = ["Command", "format_arguments", "typed_value"]

logger = logging.getLogger("falyx")


class Command(BaseAction):
    """A menu/CLI entry wrapping one step; its own record names the run in history."""

    kind = "Command"
    icon = "▶"
    is_leaf = False

    def __init__(
        self,
        key: str,
        description: str,
        action: Any,
        *,
        name: str | None = None,
        aliases: Iterable[str] = (),
        args: Iterable[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        retry: RetrySpec = False,
        retry_policy: RetryPolicy | None = None,
        retry_all: bool = False,
        confirm: bool = False,
        confirm_message: str | None = None,
        preview_before_confirm: bool = True,
        spinner: bool = False,
        spinner_message: str | None = None,
        tags: Iterable[str] = (),
        style: str = "",
        hidden: bool = False,
        help_text: str = "",
        logging_hooks: bool = False,
        **options: Any,
    ) -> None:
        if not isinstance(key, str) or not key.strip() or any(c.isspace() for c in key):
            raise ValueError(f"command key must be a non-empty word, got {key!r}")
        if not (isinstance(action, BaseAction) or callable(action)):
            raise InvalidActionError(
                f"command {key!r}: action must be a step or a callable, got "
                f"{type(action).__name__} {action!r}")
        step = to_action(action)
        policy = resolve_retry(retry, retry_policy)
        if retry_all and policy is None:
            policy = RetryPolicy()
        # retry_all hands the policy to the leaves; otherwise it retries the whole command.
        super().__init__(description or step.name, retry_policy=None if retry_all else policy,
                         **options)
        self.key = key.strip().upper()
        self.description = description or step.name
        self.action = step
        self.cli_name = name
        self.aliases = tuple(a.strip().upper() for a in aliases)
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})
        self.retry_all = retry_all
        self.leaf_policy = policy if retry_all else None
        self.confirm = confirm
        self.confirm_message = confirm_message
        self.preview_before_confirm = preview_before_confirm
        self.spinner = spinner
        self.spinner_message = spinner_message
        self.tags = tuple(tags)
        self.style = style
        self.hidden = hidden
        self.help_text = help_text
        self._last: ExecutionContext | None = None
        if logging_hooks:
            self.hooks.register(HookType.BEFORE, _log_start)
            self.hooks.register(HookType.AFTER, _log_end)

    @property
    def result(self) -> Any:
        """The result of this command's last run in this process (None if it failed or
        never ran; a value an `on_error` hook recovered with counts as its result)."""
        return None if self._last is None else self._last.result

    def _children(self) -> tuple[BaseAction, ...]:
        return (self.action,)

    def _new_context(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], options: RunOptions
    ) -> ExecutionContext:
        ctx = self._last = super()._new_context(args, kwargs, options)
        return ctx

    def _prepare(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple, dict]:
        return (*args, *self.args), {**self.kwargs, **kwargs}

    async def _run(self, ctx: ExecutionContext) -> Any:
        done = await self.action._execute(ctx.args, ctx.kwargs)
        ctx.undo = done.undo
        return done.result

    def parameters(self) -> list[inspect.Parameter]:
        """Its action's parameters, less those its stored `kwargs` fill (its CLI options)."""
        return [p for p in self.action.parameters() if p.name not in self.kwargs]

    def declares(self, name: str) -> bool:
        return name not in self.kwargs and self.action.declares(name)

    def run_options(self, **base: Any) -> RunOptions:
        """The options a run of this command uses (its `retry_all` and `record_result`).

        Its action is the `root` that `--retries N` gives a policy to only when no policy is
        in effect anywhere in the command: none of its own, no `retry_all`, none on a step.
        """
        unretried = self.retry_policy is None and self.leaf_policy is None and all(
            step.retry_policy is None for step in self.action.walk())
        from falyx.action.options import RunOptions

        return RunOptions(
            command=self.key, root=self.action if unretried else None,
            leaf_policy=self.leaf_policy, record_result=self.record_result, **base,
        )

    def preview(
        self, options: RunOptions | None = None, kwargs: Mapping[str, Any] | None = None
    ) -> PreviewNode:
        """The tree of what would run; with `kwargs`, a line showing the arguments. Headed by
        `options.command` (a mounted app's command: its path, `O.R`)."""
        options = options or self.run_options()
        node = PreviewNode(f"Command: '{options.command or self.key}' — {self.description}")
        if kwargs:
            node.children.append(PreviewNode(f"⚑ Arguments: {format_arguments(kwargs)}"))
        node.children.extend(self._detail_nodes(options))
        node.children.append(self.action.preview(options))
        return node

    @property
    def confirmation_text(self) -> str:
        """The question asked before running, without arguments (see `confirmation_for`)."""
        return self.confirmation_for()

    def confirmation_for(
        self, kwargs: Mapping[str, Any] | None = None, label: str | None = None
    ) -> str:
        """The question asked before running, with the arguments it will run with.

        E.g. ``Confirm execution of D — Deploy (calls `deploy` with env=prod)``; the
        command's `confirm_message` instead when it has one. `label` names the command
        instead of its key (a mounted app's command: its path, `O.D`).
        """
        if self.confirm_message:
            return self.confirm_message
        with_args = f" with {format_arguments(kwargs)}" if kwargs else ""
        return (f"Confirm execution of {label or self.key} — {self.description} "
                f"(calls `{self.action.name}`{with_args}) ")

    def __repr__(self) -> str:
        return (f"Command(key={self.key!r}, description={self.description!r}, "
                f"action={self.action!r})")


def format_arguments(kwargs: Mapping[str, Any], limit: int = 200) -> str:
    """`env=prod, out_dir=/tmp/out, name='two words'`: each value as it is typed on the command
    line (`typed_value`), cut to `limit` characters and then marked with `…`."""
    parts = []
    for name, value in kwargs.items():
        text = typed_value(value)
        parts.append(f"{name}={text if len(text) <= limit else text[:limit - 1] + '…'}")
    return ", ".join(parts)


def typed_value(value: Any) -> str:
    """A value as a user types it: an Enum member by its value, a string, path, date or UUID as
    its text (shell-quoted only when it needs quotes: `prod`, `'two words'`, `''`), numbers,
    bools and None as themselves, a list as `[a, b]`; anything else by its repr."""
    import shlex  # only when something is shown: `import falyx` stays lean

    if isinstance(value, enum.Enum):
        value = value.value
    uuid = sys.modules.get("uuid")  # a UUID value means the module is loaded
    if isinstance(value, (str, PurePath, datetime.date, datetime.time)) or (
            uuid is not None and isinstance(value, uuid.UUID)):
        return shlex.quote(str(value))
    if isinstance(value, (list, tuple, set, frozenset)):
        return f"[{', '.join(typed_value(item) for item in value)}]"
    if value is None or isinstance(value, (bool, int, float)):
        return str(value)
    return repr(value)


def _log_start(ctx: ExecutionContext) -> None:
    logger.info("[%s] Starting -> %r", ctx.name, ctx.action,
                extra={"action": ctx.name, "event": "start"})


def _log_end(ctx: ExecutionContext) -> None:
    logger.info("[%s] %s in %.3fs", ctx.name, ctx.status, ctx.duration or 0.0,
                extra={"action": ctx.name, "event": "end", "status": ctx.status,
                       "duration": ctx.duration})
