"""Run-time options: what a run changes without touching the steps a user defined."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from falyx.hooks import HookManager
from falyx.retry import RetryPolicy, Sleep

if TYPE_CHECKING:
    from falyx.action.base import BaseAction
    from falyx.history import ExecutionRegistry

__all__ = ["RunOptions", "current_options", "using_options"]


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Per-run settings read by the lifecycle; never stored on a step.

    `leaf_policy` is `retry_all`: the command's policy for leaf steps with none of their own.
    `overrides` are CLI changes (`--retries`, ...) applied to every policy in effect, and
    only to those: `--retries N` makes each failing step try exactly 1 + N times. `root`
    is set only for a command with no policy anywhere (`Command.run_options`): with
    `max_retries` among the overrides, that step (the command's action) gets a policy.
    """

    registry: ExecutionRegistry | None = None
    command: str | None = None
    root: BaseAction | None = None
    leaf_policy: RetryPolicy | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    record_result: bool = True
    sleep: Sleep | None = None
    root_hooks: HookManager | None = None

    def policy_for(self, step: BaseAction) -> RetryPolicy | None:
        """The retry policy `step` runs with in this run."""
        policy = step.retry_policy
        if policy is None and step.is_leaf:
            policy = self.leaf_policy
        if self.overrides:
            if policy is not None:
                policy = policy.replace(**self.overrides)
            elif step is self.root and self.leaf_policy is None and (
                "max_retries" in self.overrides
            ):
                # only `--retries` gives a policy to a command that has none; a delay or
                # backoff alone tunes the policies already in effect
                policy = RetryPolicy().replace(**self.overrides)
        return policy


_OPTIONS: contextvars.ContextVar[RunOptions | None] = contextvars.ContextVar(
    "falyx_run_options", default=None
)
_DEFAULT: list[RunOptions] = []


def current_options() -> RunOptions:
    """The options of the run in progress, or the process-wide defaults."""
    options = _OPTIONS.get()
    if options is not None:
        return options
    if not _DEFAULT:
        from falyx.history import default_registry

        _DEFAULT.append(RunOptions(registry=default_registry()))
    return _DEFAULT[0]


@contextmanager
def using_options(options: RunOptions) -> Iterator[RunOptions]:
    """Run the body (and every task it starts) with `options`."""
    token = _OPTIONS.set(options)
    try:
        yield options
    finally:
        _OPTIONS.reset(token)
