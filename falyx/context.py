"""Per-execution records: `ExecutionContext` for one step run, `SharedContext` for a composite."""

from __future__ import annotations

import contextvars
import traceback as _traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = ["ExecutionContext", "SharedContext", "current_context"]

OK, ERROR, CANCELLED = "OK", "ERROR", "CANCELLED"
_EMPTY: dict[str, Any] = {}


@dataclass(slots=True, eq=False)
class SharedContext:
    """State shared by the members of one chain or group execution."""

    name: str
    kind: str = "chain"
    results: list[Any] = field(default_factory=list)
    errors: list[tuple[str, BaseException]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def last_result(self) -> Any:
        """The most recent member result, or None."""
        return self.results[-1] if self.results else None

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value


@dataclass(slots=True, eq=False)
class ExecutionContext:
    """Everything known about one execution of one step; also its history record."""

    name: str
    action: Any = None
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    exception: BaseException | None = None
    traceback: str | None = None
    start: float | None = None  # wall clock, time.time()
    end: float | None = None
    duration: float | None = None
    status: str = "RUNNING"
    attempts: int = 0
    run_id: str = ""
    parent: ExecutionContext | None = None
    _extra: dict[str, Any] | None = None  # created on first use: most steps never touch it
    shared: SharedContext | None = None
    _hook_errors: list[tuple[str, BaseException]] | None = None
    kind: str = "Action"
    command: str | None = None
    record_result: bool = True
    index: int | None = None
    id: int = 0
    undo: tuple[Any, ...] | list[Any] = ()
    recovered: bool = False

    @property
    def start_wall(self) -> datetime | None:
        """Start as an aware UTC datetime."""
        return None if self.start is None else datetime.fromtimestamp(self.start, timezone.utc)

    @property
    def end_wall(self) -> datetime | None:
        """End as an aware UTC datetime."""
        return None if self.end is None else datetime.fromtimestamp(self.end, timezone.utc)

    @property
    def extra(self) -> dict[str, Any]:
        """Free-form data hooks and steps may attach to this execution."""
        if self._extra is None:
            self._extra = {}
        return self._extra

    @property
    def hook_errors(self) -> list[tuple[str, BaseException]]:
        """`(hook, exception)` for every hook that raised outside `before`."""
        if self._hook_errors is None:
            self._hook_errors = []
        return self._hook_errors

    @property
    def success(self) -> bool:
        """True once the step has finished OK (recovered steps included)."""
        return self.status == OK

    def recover(self, value: Any) -> None:
        """Turn the current failure into success with `value` (for `on_error` hooks)."""
        self.result = value
        self.exception = None
        self.traceback = None
        self.status = OK
        self.recovered = True

    def fail(self, exc: BaseException, status: str = ERROR) -> None:
        """Mark the step as failed (or cancelled) with `exc`."""
        self.exception = exc
        self.status = status
        self.recovered = False
        if status == ERROR:
            self.traceback = "".join(_traceback.format_exception(type(exc), exc, exc.__traceback__))

    def as_dict(self) -> dict[str, Any]:
        """Every field of the record, with wall times as UTC datetimes."""
        return {
            "index": self.index,
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "command": self.command,
            "action": self.action,
            "args": self.args,
            "kwargs": self.kwargs,
            "result": self.result if self.record_result else None,
            "exception": self.exception,
            "traceback": self.traceback,
            "start_wall": self.start_wall,
            "end_wall": self.end_wall,
            "duration": self.duration,
            "status": self.status,
            "attempts": self.attempts,
            "run_id": self.run_id,
            "parent": None if self.parent is None else self.parent.id,
            "extra": self.extra,
            "shared": self.shared,
            "hook_errors": list(self.hook_errors),
        }

    def __repr__(self) -> str:
        return (
            f"ExecutionContext(name={self.name!r}, status={self.status}, "
            f"attempts={self.attempts}, duration={self.duration})"
        )


_CURRENT: contextvars.ContextVar[ExecutionContext | None] = contextvars.ContextVar(
    "falyx_current_context", default=None
)


def current_context() -> ExecutionContext | None:
    """The context of the step running in this task, if any."""
    return _CURRENT.get()
