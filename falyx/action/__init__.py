"""Steps: `Action`, `ChainedAction`, `ActionGroup`, process and shell steps, and builders.

Process and shell steps are imported on first use (PEP 562): an app that has none does not
load the pools, pickling and subprocess machinery at start-up (DESIGN §1, lazy imports).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from falyx.action.action import Action, LiteralAction, step
from falyx.action.base import BaseAction, PreviewNode
from falyx.action.chain import ChainedAction, chain
from falyx.action.group import ActionGroup, group

if TYPE_CHECKING:
    from falyx.action.process import ProcessAction, ProcessPoolAction, ProcessTask
    from falyx.action.shell import ShellAction

#: Exported names that live in modules loaded on first use, and those modules.
LAZY_EXPORTS = {
    "ProcessAction": "falyx.action.process",
    "ProcessPoolAction": "falyx.action.process",
    "ProcessTask": "falyx.action.process",
    "ShellAction": "falyx.action.shell",
}


def __getattr__(name: str) -> Any:
    module = LAZY_EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *LAZY_EXPORTS})

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
