"""Modules executed on first use: the run-time half of the engine stays off `--help`.

`deferred("falyx.context")` returns the module at once and executes it on the first
attribute access, the scheme of the standard library's `importlib.util.LazyLoader` (the
`importlib` docs, "Implementing lazy imports"). The modules that define steps, commands and
the app never execute, at import, the modules only a run needs (`falyx.context`,
`falyx.history`, `falyx.action.options`, `.scopes`, `.cancellation`, `.undo`): the per-step
code (`falyx.action.base`, `.chain`, `.group`) reads them through `deferred` modules, as
`context.ExecutionContext`, and the rest imports them where a run uses them. Building an app
and printing its help executes none of them (issue 14: about 26 M instructions, 4% of
`--help`); a run's first step executes each once. After that, an attribute of the module
costs what any module attribute costs.

A module already imported is returned as it is. The first use is safe from any thread, as an
import is: one thread executes the module while the others wait for it (Python 3.10 to
3.12.2's `LazyLoader` lets them read it half-executed, hence this small loader of our own).
An execution that raises leaves the module unexecuted, so the next use raises or runs it
again, as a failed import would.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from types import ModuleType
from typing import Any

__all__ = ["deferred"]

#: Held while a deferred module executes; re-entrant: its execution may use it (a cycle).
_FIRST_USE = threading.RLock()
_executing: set[str] = set()


# A child forked while another thread executed a module starts with the lock free, as with
# the import lock; that module, unexecuted there, executes on its first use. (The lock's own
# `_at_fork_reinit`, as `logging` uses for its locks: a function of this module would keep
# its globals alive to the end, and the interpreter's exit slower by 1% of a `--help`.)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_FIRST_USE._at_fork_reinit)
    os.register_at_fork(after_in_child=_executing.clear)


class _LazyModule(ModuleType):
    """A module not executed yet: the first attribute access executes it, once."""

    def __getattribute__(self, attr: str) -> Any:
        with _FIRST_USE:
            if type(self) is _LazyModule:  # not executed by a thread we waited for
                spec = ModuleType.__getattribute__(self, "__spec__")
                if spec.name not in _executing:  # else a cycle: it reads what is defined
                    _executing.add(spec.name)
                    try:
                        spec.loader.exec_module(self)
                        self.__class__ = ModuleType
                    finally:
                        _executing.discard(spec.name)
        return ModuleType.__getattribute__(self, attr)


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
    module = importlib.util.module_from_spec(spec)
    module.__class__ = _LazyModule
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:  # as the import system does: `import falyx.context` binds `falyx.context`
        setattr(sys.modules[parent], child, module)
    return module
