"""`BaseAction` and the one lifecycle every step runs through.

Hooks, retries, per-attempt timeouts, timing, rollback bookkeeping and recording happen
here and nowhere else; subclasses only say what running them means (`_run`).
"""

from __future__ import annotations

import inspect
import itertools
import logging
import os
import random
import time
from collections.abc import Awaitable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from falyx.deferred import deferred
from falyx.durations import format_seconds
from falyx.errors import StepTimeoutError
from falyx.hooks import Hook, HookManager, HookSpec, HookType
from falyx.retry import RetryPolicy, RetrySpec, resolve_retry

if TYPE_CHECKING:
    from falyx.action.options import RunOptions
    from falyx.context import ExecutionContext

# What only a run needs, executed by the first step that runs (`--help` never does):
# the per-step names are read through these modules; the rest is imported where used.
context = deferred("falyx.context")
run_options = deferred("falyx.action.options")

__all__ = ["BaseAction", "PreviewNode", "UndoEntry"]

logger = logging.getLogger("falyx")
_ids = itertools.count(1)
_BEFORE, _SUCCESS, _ERROR = HookType.BEFORE, HookType.ON_SUCCESS, HookType.ON_ERROR
_AFTER, _TEARDOWN = HookType.AFTER, HookType.ON_TEARDOWN

#: One completed step to undo: the step and the arguments its callable received.
UndoEntry = tuple["BaseAction", tuple[Any, ...], dict[str, Any]]


@dataclass(slots=True)
class PreviewNode:
    """One line of a preview tree, with its children."""

    label: str
    children: list[PreviewNode] = field(default_factory=list)

    def lines(self, indent: str = "") -> list[str]:
        """The tree as plain text lines (the rich tree is drawn by `falyx.render`)."""
        out = [indent + self.label]
        for child in self.children:
            out.extend(child.lines(indent + "    "))
        return out


class BaseAction:
    """A step: awaitable, composable, with the whole lifecycle built in."""

    kind = "Action"
    icon = "⚙"
    is_leaf = True

    def __init__(
        self,
        name: str,
        *,
        rollback: Any = None,
        retry: RetrySpec = False,
        retry_policy: RetryPolicy | None = None,
        hooks: HookSpec | None = None,
        timeout: float | None = None,
        inject_last_result: bool = False,
        inject_into: str = "last_result",
        record_result: bool = True,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"a step needs a non-empty string name, got {name!r}")
        if rollback is not None and not callable(rollback):
            raise TypeError(f"step '{name}': rollback must be callable, got {rollback!r}")
        if timeout is not None and (isinstance(timeout, bool) or timeout <= 0):
            raise ValueError(f"step '{name}': timeout must be a positive number, got {timeout!r}")
        self.name = name
        self.rollback = rollback
        self.retry_policy = resolve_retry(retry, retry_policy)
        self.hooks = HookManager.coerce(hooks)
        self.timeout = timeout
        self.inject_last_result = inject_last_result
        self.inject_into = inject_into
        self.record_result = record_result

    # -- what subclasses provide -------------------------------------------------------
    def _run(self, ctx: ExecutionContext) -> Awaitable[Any]:
        """An awaitable running the body once with `ctx.args` / `ctx.kwargs`.

        Usually an `async def`; composites also set `ctx.undo`. This is the only method a
        new kind of step must provide.
        """
        raise NotImplementedError

    def _prepare(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple, dict]:
        """The arguments the body actually receives (an `Action` adds its stored ones)."""
        return args, kwargs

    def accepts_keyword(self, keyword: str) -> bool:
        """Whether the body can receive `keyword` (checked when injection is turned on)."""
        return True

    def _children(self) -> Sequence[BaseAction]:
        """The steps directly inside this one (composites and commands have some)."""
        return ()

    def walk(self) -> Iterator[BaseAction]:
        """This step and every step inside it, depth first, each once."""
        seen: set[int] = set()
        pending: list[BaseAction] = [self]
        while pending:
            step = pending.pop()
            if id(step) not in seen:
                seen.add(id(step))
                yield step
                pending.extend(reversed(step._children()))

    def register_hooks_recursively(self, hook_type: HookType | str, hook: Hook) -> None:
        """Register `hook` on this step and on every step inside it (DESIGN §2.15).

        A step that appears twice, or hook managers shared by several steps, get it once.
        Raises `ValueError` for an unknown hook type, `TypeError` if `hook` is not callable
        (from the first registration, so nothing is registered then).
        """
        managers = {id(step.hooks): step.hooks for step in self.walk()}
        for manager in managers.values():
            manager.register(hook_type, hook)

    # -- the parameter protocol (DESIGN §2.1, §2.6) ----------------------------------------
    def parameters(self) -> list[inspect.Parameter]:
        """The named parameters this step takes from a call's keywords (its CLI options).

        KEYWORD_ONLY, annotations resolved, defaults kept (`Parameter.empty`: required);
        none its stored arguments fill, nor `inject_into`. Default: none. Raises
        `RegistrationError` for a composite whose steps declare one name differently.
        """
        return []

    def declares(self, name: str) -> bool:
        """Whether a chain or group hands the call keyword `name` to this step."""
        return any(p.name == name for p in self.parameters())

    def preview(self, options: RunOptions | None = None) -> PreviewNode:
        """The tree of what would run, with the options of a run applied."""
        node = PreviewNode(f"{self.icon} {self.kind} '{self.name}'")
        node.children.extend(self._detail_nodes(options))
        return node

    # -- the lifecycle -----------------------------------------------------------------
    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return (await self._execute(args, kwargs)).result

    def _new_context(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], options: RunOptions
    ) -> ExecutionContext:
        """The context for one execution, linked to the step running in this task."""
        parent = context._CURRENT.get()
        args, kwargs = self._prepare(args, kwargs)
        return context.ExecutionContext(
            self.name, self, args, kwargs,
            kind=self.kind,
            id=next(_ids),
            parent=parent,
            shared=None if parent is None else parent.shared,
            run_id=new_run_id() if parent is None else parent.run_id,
            command=options.command,
            record_result=options.record_result and self.record_result,
        )

    async def _execute(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        ctx: ExecutionContext | None = None,
        options: RunOptions | None = None,
    ) -> ExecutionContext:
        """The lifecycle: hooks, attempts, timing, status, recording.

        Returns the finished context, or raises the step's last exception. The app passes a
        context it prepared (`_new_context`); steps inside a run create their own.
        """
        if ctx is None or options is None:
            options = run_options._OPTIONS.get() or run_options.current_options()
            ctx = self._new_context(args, kwargs, options)
        hooks = self.hooks if self.hooks._hooks else None
        if ctx.parent is None and options.root_hooks:
            hooks = self.hooks.merged(options.root_hooks)
        token = context._CURRENT.set(ctx)
        ctx.start = time.time()
        started = time.perf_counter()
        try:
            try:
                if hooks:
                    await hooks.trigger(_BEFORE, ctx)
                if self.timeout is None and (
                    self.retry_policy is None and not options.leaf_policy and not options.overrides
                ):  # the fast path: one plain attempt
                    ctx.attempts = 1
                    ctx.result = await self._run(ctx)
                else:
                    ctx.result = await self._attempts(ctx, options)
                ctx.status = context.OK
            except Exception as exc:
                ctx.fail(exc)
                if hooks:
                    await hooks.trigger(_ERROR, ctx)
                    _settle(ctx)
            else:
                if hooks:
                    await hooks.trigger(_SUCCESS, ctx)
        except BaseException as exc:  # cancellation: record it, then let it propagate
            from falyx.action.cancellation import explain_cancel

            explain_cancel(exc)
            ctx.fail(exc, context.CANCELLED)
            raise
        finally:
            ctx.end = time.time()
            ctx.duration = time.perf_counter() - started
            try:
                if hooks:
                    await hooks.trigger(_AFTER, ctx)
                    await hooks.trigger(_TEARDOWN, ctx)
                    _settle(ctx)
            finally:
                context._CURRENT.reset(token)
                try:  # a thread or task that returned after the cancellation: undo it (§2.4)
                    if ctx.returned_late and ctx.status != context.OK and self.rollback is not None:
                        from falyx.action.undo import roll_back_late

                        await roll_back_late(self, ctx)
                finally:
                    if options.registry is not None:
                        options.registry.record(ctx)
                        if ctx.parent is None and options.registry.writing:
                            await options.registry.drain()  # persisted when it returns
        if ctx.status != context.OK:
            raise ctx.exception  # type: ignore[misc]
        if self.rollback is not None:
            ctx.undo = ((self, ctx.args, ctx.kwargs), *ctx.undo)
        return ctx

    async def _attempts(self, ctx: ExecutionContext, options: RunOptions) -> Any:
        policy = options.policy_for(self)
        if policy is None:
            ctx.attempts = 1
            return await self._attempt(ctx)
        # whether a timed-out attempt is retried (the wait for a sync step's thread says so)
        retries_timeout = self.timeout is not None and policy.should_retry(
            StepTimeoutError(self.name))
        async for attempt in policy.retrying(self.name, options.sleep):
            with attempt:
                number = ctx.attempts = attempt.retry_state.attempt_number
                try:
                    result = await self._attempt(
                        ctx, retries_timeout and number <= policy.max_retries)
                except Exception as exc:
                    if number > 1:
                        logger.warning(
                            "[%s] Retry attempt %d/%d failed due to '%s'.",
                            self.name, number - 1, policy.max_retries, exc,
                            extra={"action": self.name, "event": "retry_failed",
                                   "attempt": number},
                        )
                    raise
                if number > 1:
                    logger.warning("[%s] Recovered on attempt %d/%d", self.name, number,
                                   policy.max_retries + 1,
                                   extra={"action": self.name, "event": "retry_succeeded",
                                          "attempt": number})
                return result
        raise AssertionError("unreachable: tenacity returns or re-raises")  # pragma: no cover

    async def _attempt(self, ctx: ExecutionContext, retry_follows: bool = False) -> Any:
        """One attempt, under the step's timeout if it has one (`retry_follows`: a timed-out
        attempt is retried)."""
        ctx.undo = ()
        if self.timeout is None:
            return await self._run(ctx)
        from falyx.action.scopes import Deadline, run_with_timeout

        return await run_with_timeout(
            self._run(ctx), Deadline(ctx, self.name, self.timeout, retry_follows))

    # -- presentation --------------------------------------------------------------------
    def _detail_nodes(self, options: RunOptions | None) -> list[PreviewNode]:
        policy = (options or run_options.RunOptions()).policy_for(self)
        nodes = []
        if policy is not None:
            nodes.append(PreviewNode(f"↻ {policy.describe()}"))
        if self.timeout is not None:
            nodes.append(PreviewNode(f"⏱ Timeout: {format_seconds(self.timeout)}"))
        if self.rollback is not None:
            nodes.append(PreviewNode(f"↩ Rollback: {_callable_name(self.rollback)}"))
        return nodes

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _settle(ctx: ExecutionContext) -> None:
    """The original Falyx's recovery idiom: a hook that set `ctx.exception = None` (and maybe
    `ctx.result = value`) recovers exactly as `ctx.recover(ctx.result)` does."""
    if ctx.exception is None and ctx.status == context.ERROR:
        ctx.recover(ctx.result)


# Our own generator: a user's `random.seed()` must neither steer nor be disturbed by us.
_rng = random.Random()
if hasattr(os, "register_at_fork"):  # a forked child must not repeat its parent's run ids
    os.register_at_fork(after_in_child=_rng.seed)


def new_run_id() -> str:
    """A 12-hex-digit random run id (48 random bits; a tenth of uuid4's cost)."""
    return f"{_rng.getrandbits(48):012x}"


def _callable_name(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "name", None) or repr(fn)
