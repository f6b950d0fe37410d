"""Lifecycle hooks: `HookType` and the `HookManager` that runs them."""

from __future__ import annotations

import functools
import inspect
import logging
import typing
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import TYPE_CHECKING, Any, ForwardRef, Union

if TYPE_CHECKING:
    from falyx.context import ExecutionContext

__all__ = ["Hook", "HookManager", "HookSpec", "HookType", "check_hook"]

logger = logging.getLogger("falyx")

if TYPE_CHECKING:
    Hook = Callable[[ExecutionContext], Any]
else:  # names its module, so `get_type_hints` resolves it anywhere (falyx.context is
    # deferred); typing's Callable keeps the `[[ctx], Any]` shape once resolved
    Hook = typing.Callable[[ForwardRef("ExecutionContext", module="falyx.context")], Any]


class HookType(str, Enum):
    """When a hook runs in a step's lifecycle."""

    BEFORE = "before"
    ON_SUCCESS = "on_success"
    ON_ERROR = "on_error"
    AFTER = "after"
    ON_TEARDOWN = "on_teardown"

    @classmethod
    def _missing_(cls, value: object) -> HookType | None:
        if isinstance(value, str):
            name = value.strip().lower().replace("-", "_")
            alias = {"success": "on_success", "error": "on_error", "teardown": "on_teardown"}
            name = alias.get(name, name)
            for member in cls:
                if member.value == name:
                    return member
        return None

    def __str__(self) -> str:
        return self.value


class HookManager:
    """Holds hooks by type and runs them with a step's context."""

    __slots__ = ("_hooks",)

    def __init__(self) -> None:
        self._hooks: dict[HookType, list[Hook]] = {}

    def register(self, hook_type: HookType | str, hook: Hook) -> Hook:
        """Add `hook` to run at `hook_type`; returns the hook so this works as a decorator.

        Raises:
            TypeError: `hook` is not callable, or cannot be called as `hook(ctx)` (see
                `check_hook`).
            ValueError: `hook_type` is no `HookType` (nor one of its aliases).
        """
        if not callable(hook):
            raise TypeError(f"hook for {hook_type!s} must be callable, got {hook!r}")
        kind = HookType(hook_type)
        check_hook(kind, hook)
        self._hooks.setdefault(kind, []).append(hook)
        return hook

    def clear(self, hook_type: HookType | str | None = None) -> None:
        """Remove the hooks of one type, or all of them."""
        if hook_type is None:
            self._hooks.clear()
        else:
            self._hooks.pop(HookType(hook_type), None)

    def hooks(self, hook_type: HookType | str) -> list[Hook]:
        return list(self._hooks.get(HookType(hook_type), ()))

    def __contains__(self, hook_type: object) -> bool:
        """`"error" in manager`: whether any hook of that type is registered."""
        return bool(self._hooks.get(HookType(hook_type)))  # type: ignore[arg-type]

    def __bool__(self) -> bool:
        return any(self._hooks.values())

    async def trigger(self, hook_type: HookType, ctx: ExecutionContext) -> None:
        """Run the hooks of `hook_type` in order.

        A `before` hook that raises fails the step (it is a guard); any other hook's
        exception is logged and kept on `ctx.hook_errors`, never replacing the outcome.
        """
        for hook in self._hooks.get(hook_type, ()):
            try:
                outcome = hook(ctx)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception as exc:
                if hook_type is HookType.BEFORE:
                    raise
                name = getattr(hook, "__name__", repr(hook))
                ctx.hook_errors.append((f"{hook_type}:{name}", exc))
                logger.warning("[%s] %s hook %r failed: %s", ctx.name, hook_type, name, exc)

    @classmethod
    def coerce(cls, spec: HookSpec | None) -> HookManager:
        """Build a manager from a manager, a mapping `{type: hook | [hooks]}`, or None."""
        if isinstance(spec, HookManager):
            return spec
        manager = cls()
        if spec is None:
            return manager
        if not isinstance(spec, Mapping):
            raise TypeError(f"hooks must be a HookManager or a mapping, got {type(spec).__name__}")
        for hook_type, hooks in spec.items():
            for hook in hooks if isinstance(hooks, Iterable) else (hooks,):
                manager.register(hook_type, hook)
        return manager

    def merged(self, other: HookManager | None) -> HookManager:
        """A new manager running this one's hooks, then `other`'s."""
        merged = HookManager()
        for source in (self, other):
            if source is not None:
                for hook_type, hooks in source._hooks.items():
                    merged._hooks.setdefault(hook_type, []).extend(hooks)
        return merged


def check_hook(hook_type: HookType | str, hook: Hook) -> None:
    """Refuse a hook that cannot be called as `hook(ctx)` (DESIGN §2.2: hooks receive the
    step's `ExecutionContext` as their one positional argument).

    Accepted: anything whose signature binds one positional argument (`def h(ctx)`,
    `def h(*args)`, `def h(ctx, extra=1)`, a bound method, a callable object, a
    `functools.partial`, sync or async); a callable without a readable signature (some
    builtins) is left for the call to decide.

    Raises:
        TypeError: naming the hook, its hook type, its signature and what it must accept.
    """
    try:
        signature = inspect.signature(hook)
    except (TypeError, ValueError):  # no signature to read (a builtin): the call decides
        return
    try:
        signature.bind(None)
    except TypeError:
        signature = signature.replace(return_annotation=inspect.Signature.empty)
        kind = HookType(hook_type).value
        raise TypeError(
            f"{kind} hook {hook_name(hook)!r} must accept one positional argument, the "
            f"step's ExecutionContext (hooks are called as hook(ctx)); its signature is "
            f"{signature}") from None


def hook_name(hook: Hook) -> str:
    """A hook's name for messages: its qualified name, a partial's function, else repr."""
    if isinstance(hook, functools.partial):
        return f"partial({hook_name(hook.func)})"
    name = getattr(hook, "__qualname__", None) or getattr(hook, "__name__", None)
    return name if isinstance(name, str) else f"{type(hook).__qualname__} object"


HookSpec = Union[HookManager, Mapping[Union[HookType, str], Union[Hook, Iterable[Hook]]]]
