"""falyx: resilient command-line workflows from plain functions.

`import falyx` loads the engine and the app, not the CLI, the menu or any heavy library;
process and shell steps load on first use (see `falyx.action`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from falyx.action import Action, ActionGroup, BaseAction, ChainedAction, chain, group, step
from falyx.app import Falyx
from falyx.command import Command
from falyx.context import ExecutionContext, SharedContext, current_context
from falyx.errors import (
    ActionGroupError,
    CommandNotFound,
    ConfigError,
    ConfirmationDeclined,
    ConfirmationRequired,
    EmptyChainError,
    EmptyGroupError,
    ExecutorError,
    FalyxError,
    InvalidActionError,
    NotPicklableError,
    RegistrationError,
    RemoteError,
    RollbackError,
    ShellCommandError,
    StepTimeoutError,
    UsageError,
)
from falyx.history import ExecutionRegistry
from falyx.hooks import HookManager, HookType
from falyx.retry import RetryPolicy

if TYPE_CHECKING:
    from falyx.action import ProcessAction, ProcessPoolAction, ProcessTask, ShellAction

__version__ = "0.1.0"

__all__ = [
    "Action",
    "ActionGroup",
    "ActionGroupError",
    "BaseAction",
    "ChainedAction",
    "Command",
    "CommandNotFound",
    "ConfigError",
    "ConfirmationDeclined",
    "ConfirmationRequired",
    "EmptyChainError",
    "EmptyGroupError",
    "ExecutionContext",
    "ExecutionRegistry",
    "ExecutorError",
    "Falyx",
    "FalyxError",
    "HookManager",
    "HookType",
    "InvalidActionError",
    "NotPicklableError",
    "ProcessAction",
    "ProcessPoolAction",
    "ProcessTask",
    "RegistrationError",
    "RemoteError",
    "RetryPolicy",
    "RollbackError",
    "SharedContext",
    "ShellAction",
    "ShellCommandError",
    "StepTimeoutError",
    "UsageError",
    "__version__",
    "chain",
    "current_context",
    "group",
    "step",
]


def __getattr__(name: str) -> Any:
    import falyx.action

    if name not in falyx.action.LAZY_EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(falyx.action, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    import falyx.action

    return sorted({*globals(), *falyx.action.LAZY_EXPORTS})
