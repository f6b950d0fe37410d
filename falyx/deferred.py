"""Modules executed on first use: the run-time half of the engine stays off `--help`.

`deferred("falyx.context")` returns the module at once and executes it on the first
attribute access, with the standard library's `importlib.util.LazyLoader` (the `importlib`
docs, "Implementing lazy imports"). The modules that define steps, commands and the app
(`falyx.action.base`, `.action`, `.chain`, `.group`, `falyx.command`, `falyx.app`) refer to
the modules only a run needs (`falyx.context`, `falyx.history`, `falyx.action.options`,
`.scopes`, `.cancellation`, `.undo`) through it, as `context.ExecutionContext`: building an
app and printing its help executes none of them (issue 14: about 26 M instructions, 4% of
`--help`), and a run's first step executes each once. After that, an attribute of the
module costs what any module attribute costs.

A module already imported is returned as it is. The first access should come from one
thread at a time on Python 3.10 and 3.11 (their `LazyLoader` takes no lock); in falyx it
comes from the thread that runs the first step, before any step thread exists.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

__all__ = ["deferred"]


def deferred(name: str) -> ModuleType:
    """The module `name` (absolute, as `falyx.context`), executed on first attribute access.

    Raises:
        ModuleNotFoundError: no such module (found at once, not on first use).
    """
    module = sys.modules.get(name)
    if module is not None:
        return module
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:  # as the import system does: `import falyx.context` binds `falyx.context`
        setattr(sys.modules[parent], child, module)
    return module

