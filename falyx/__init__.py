"""falyx: resilient command-line workflows from plain functions."""

from falyx.action import (
    Action,
    ActionGroup,
    BaseAction,
    ChainedAction,
    ProcessAction,
    ProcessPoolAction,
    ProcessTask,
    ShellAction,
    chain,
    group,
    step,
)
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
