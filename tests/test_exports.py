"""The public API: what `falyx.__all__` holds, and nothing private leaks (DESIGN §2)."""

from __future__ import annotations

import falyx
import falyx.action
import falyx.errors


def test_every_name_in_all_exists_and_none_is_private() -> None:
    for module in (falyx, falyx.action, falyx.errors):
        assert len(module.__all__) == len(set(module.__all__)), module.__name__
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
            assert not name.startswith("_") or name == "__version__", name


def test_every_error_class_is_exported_by_falyx() -> None:
    errors = {name for name in falyx.errors.__all__
              if isinstance(getattr(falyx.errors, name), type)}
    assert errors <= set(falyx.__all__), errors - set(falyx.__all__)
    for name in errors:
        assert getattr(falyx, name) is getattr(falyx.errors, name)
        assert issubclass(getattr(falyx, name), falyx.FalyxError)


def test_the_design_api_is_importable_from_its_documented_places() -> None:
    from falyx import (  # noqa: F401 - DESIGN §2's import lines
        ExecutionContext,
        ExecutionRegistry,
        Falyx,
        HookManager,
        HookType,
        RetryPolicy,
        chain,
        group,
        step,
    )
    from falyx.action import (  # noqa: F401
        Action,
        ActionGroup,
        ChainedAction,
        ProcessAction,
        ProcessPoolAction,
        ProcessTask,
        ShellAction,
    )
    assert callable(step) and issubclass(ShellAction, falyx.BaseAction)
