"""Import refs: `pkg.mod:func` (or `pkg.mod.func`) to the object they name."""

from __future__ import annotations

import builtins
import difflib
import importlib
import importlib.util
import sys
from collections.abc import Sequence
from typing import Any

__all__ = [
    "EXCEPTION_FORMS", "RefError", "add_to_path", "falyx_exceptions", "is_ref", "resolve",
    "resolve_callable", "resolve_exception",
]


class RefError(Exception):
    """A ref that cannot be resolved; the message names the ref, the error and where."""


def is_ref(text: str) -> bool:
    """Whether `text` looks like an import ref rather than a command key."""
    return ":" in text or "." in text.strip(".")


def resolve(ref: str, looked_in: Sequence[str] = ()) -> Any:
    """The object `ref` names, importing its module.

    Raises:
        RefError: no such module (naming the folders `looked_in`), an import that raised,
            or a missing attribute (with a "did you mean").
    """
    module_name, attrs = _split(ref)
    module = _import(ref, module_name, looked_in)
    target: Any = module
    for depth, attr in enumerate(attrs):
        try:
            target = getattr(target, attr)
        except AttributeError:
            owner = module_name + "".join("." + a for a in attrs[:depth])
            known = [n for n in dir(target) if not n.startswith("_")]
            close = difflib.get_close_matches(attr, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            where = getattr(module, "__file__", None) if depth == 0 else None
            raise RefError(f"ref '{ref}': {owner}{f' ({where})' if where else ''} has no "
                           f"attribute '{attr}'{hint}") from None
    return target


def resolve_callable(ref: str, looked_in: Sequence[str] = ()) -> Any:
    """Like `resolve`, and the object must be callable."""
    target = resolve(ref, looked_in)
    if not callable(target):
        raise RefError(f"ref '{ref}' names {type(target).__name__} {_short(target)}, "
                       "which is not callable")
    return target


def resolve_exception(name: str, looked_in: Sequence[str] = ()) -> type[BaseException]:
    """An exception class by one of three forms: a builtin name (`ConnectionError`), the
    bare name of an exception `falyx` exports (`ShellCommandError`), or a ref
    (`pkg.mod:MyError`). DESIGN §2.3, §2.13.

    Raises:
        RefError: the name is none of these (with a "did you mean" among the bare names),
            or the ref cannot be resolved or names no exception class.
    """
    if is_ref(name):
        target = resolve(name, looked_in)
    else:
        target = getattr(builtins, name, None) or falyx_exceptions().get(name)
    if isinstance(target, type) and issubclass(target, BaseException):
        return target
    close = [] if is_ref(name) else difflib.get_close_matches(
        name, _bare_exception_names(), n=1, cutoff=0.8)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise RefError(f"'{name}' is not an exception class{hint} ({EXCEPTION_FORMS})")


#: The forms `retry_on` takes, for messages.
EXCEPTION_FORMS = ("use a builtin name such as ConnectionError, a falyx error such as "
                   "ShellCommandError, or 'pkg.mod:MyError'")


def falyx_exceptions() -> dict[str, type[BaseException]]:
    """The exception classes `falyx` exports, by name (its `__all__`; none loaded lazily)."""
    import falyx

    loaded = vars(falyx)
    return {name: loaded[name] for name in falyx.__all__ if name in loaded
            and isinstance(loaded[name], type) and issubclass(loaded[name], BaseException)}


def _bare_exception_names() -> list[str]:
    builtin = [n for n, v in vars(builtins).items()
               if isinstance(v, type) and issubclass(v, BaseException)]
    return [*builtin, *falyx_exceptions()]


def _split(ref: str) -> tuple[str, list[str]]:
    module, sep, attrs = ref.strip().partition(":")
    if not sep:
        module, _, attrs = module.rpartition(".")
    parts = attrs.split(".") if attrs else []
    if not module or not parts or not all(p.isidentifier() for p in parts) or not all(
        p.isidentifier() for p in module.split(".")
    ):
        raise RefError(f"'{ref}' is not an import ref; write 'pkg.module:function'")
    return module, parts


def _import(ref: str, module_name: str, looked_in: Sequence[str]) -> Any:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            folders = ", ".join(looked_in) if looked_in else "sys.path"
            raise RefError(f"ref '{ref}': no module named '{exc.name}' (looked in {folders} "
                           "and the installed packages)") from None
        raise RefError(f"ref '{ref}': importing '{module_name}' raised "
                       f"ModuleNotFoundError: {exc}") from None
    except (Exception, SystemExit) as exc:
        where = _module_file(module_name)
        raise RefError(f"ref '{ref}': importing '{module_name}'{where} raised "
                       f"{type(exc).__name__}: {exc}") from None


def _module_file(module_name: str) -> str:
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return ""
    return f" ({spec.origin})" if spec and spec.origin else ""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def add_to_path(folders: Sequence[str]) -> None:
    """Put `folders` first on `sys.path` (once each), so refs import from them."""
    for folder in reversed(folders):
        if folder not in sys.path:
            sys.path.insert(0, folder)
