"""Steps: `Action`, `ChainedAction`, `ActionGroup`, process and shell steps, and builders."""

from falyx.action.action import Action, LiteralAction, step
from falyx.action.base import BaseAction, PreviewNode
from falyx.action.chain import ChainedAction, chain
from falyx.action.group import ActionGroup, group
from falyx.action.process import ProcessAction, ProcessPoolAction, ProcessTask
from falyx.action.shell import ShellAction

__all__ = [
    "Action",
    "ActionGroup",
    "BaseAction",
    "ChainedAction",
    "LiteralAction",
    "PreviewNode",
    "ProcessAction",
    "ProcessPoolAction",
    "ProcessTask",
    "ShellAction",
    "chain",
    "group",
    "step",
]
