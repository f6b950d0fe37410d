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
from falyx.errors import FalyxError, ShellCommandError
from falyx.history import ExecutionRegistry
from falyx.hooks import HookManager, HookType
from falyx.retry import RetryPolicy

__version__ = "0.1.0"

__all__ = [
    "Action",
    "ActionGroup",
    "BaseAction",
    "ChainedAction",
    "Command",
    "ExecutionContext",
    "ExecutionRegistry",
    "Falyx",
    "FalyxError",
    "HookManager",
    "HookType",
    "ProcessAction",
    "ProcessPoolAction",
    "ProcessTask",
    "RetryPolicy",
    "SharedContext",
    "ShellAction",
    "ShellCommandError",
    "__version__",
    "chain",
    "current_context",
    "group",
    "step",
]
