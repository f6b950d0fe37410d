"""falyx: resilient command-line workflows from plain functions.

`import falyx` loads the steps and the app, not the CLI, the menu or any heavy library;
process and shell steps load on first use (see `falyx.action`), and what only a run needs
(records, history, run options, timeouts, rollback) on the first run (`falyx.deferred`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from falyx.action import Action, ActionGroup, BaseAction, ChainedAction, chain, group, step
from falyx.app import Falyx
from falyx.command import Command
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
from falyx.hooks import HookManager, HookType
from falyx.retry import RetryPolicy

if TYPE_CHECKING:
    from falyx.action import ProcessAction, ProcessPoolAction, ProcessTask, ShellAction
    from falyx.context import ExecutionContext, SharedContext, current_context
    from falyx.history import ExecutionRegistry

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


#: Exports whose module a run loads, not `import falyx` (`--help` never needs them).
_RUN_TIME_EXPORTS = {
    "ExecutionContext": "falyx.context",
    "SharedContext": "falyx.context",
    "current_context": "falyx.context",
    "ExecutionRegistry": "falyx.history",
}


def __getattr__(name: str) -> Any:
    import importlib

    import falyx.action

    if name in _RUN_TIME_EXPORTS:
        value = getattr(importlib.import_module(_RUN_TIME_EXPORTS[name]), name)
    elif name in falyx.action.LAZY_EXPORTS:
        value = getattr(falyx.action, name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    import falyx.action

    return sorted({*globals(), *falyx.action.LAZY_EXPORTS, *_RUN_TIME_EXPORTS})
