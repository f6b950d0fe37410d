"""Per-execution records: `ExecutionContext` for one step run, `SharedContext` for a composite."""

from __future__ import annotations

import contextvars
import traceback as _traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = ["ExecutionContext", "SharedContext", "current_context"]

OK, ERROR, CANCELLED = "OK", "ERROR", "CANCELLED"


@dataclass(slots=True, eq=False)
class SharedContext:
    """State shared by the members of one chain or group execution.

    `upstream` and `forward_as` carry injection through nested composites (DESIGN §2.15):
    `upstream` is the enclosing chain's previous result when this composite started (None
    at the top); `forward_as`, when set, is the keyword under which the composite's entry
    steps (a chain's first step, a group's members) receive it even without asking.
    """

    name: str
    kind: str = "chain"
    results: list[Any] = field(default_factory=list)
    errors: list[tuple[str, BaseException]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    upstream: Any = None
    forward_as: str | None = None
    auto_inject: bool = False
    members: Sequence[Any] = ()  # the steps this execution runs, in order

    @property
    def last_result(self) -> Any:
        """The most recent member result, or None."""
        return self.results[-1] if self.results else None

    def handoff(self, step: Any) -> tuple[Any, str | None] | None:
        """What `step`, starting now as a member of this composite, is handed.

        Returns `(previous result, keyword)`, the keyword being the one `step` receives
        the previous result under without asking for it (its own `inject_into` under a
        chain's `auto_inject`), or None when it receives it only if it asks. Returns None
        when `step` is not the member being started (a rollback, a step run from a hook).
        """
        if self.kind == "chain":
            position = len(self.results)
            if position >= len(self.members) or self.members[position] is not step:
                return None
            if position:
                return self.results[-1], step.inject_into if self.auto_inject else None
        elif step not in self.members:
            return None
        return self.upstream, self.forward_as

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value


@dataclass(slots=True, eq=False, init=False)
class ExecutionContext:
    """Everything known about one execution of one step; also its history record.

    The fields up to `shared` are those of DESIGN §2.2; all are dataclass fields, so
    `dataclasses.fields`, `replace` and `asdict` see every one. The lifecycle records the
    clock as `start`/`end` (epoch seconds, cheap to take): `start_wall`/`end_wall` read as
    aware UTC datetimes made from them, unless given explicitly; `extra` and `hook_errors`
    are created on first read. `__init__` leaves those four slots empty unless given and
    their readers fill them in (`_made_on_read`): a datetime costs ~0.5 µs, and most
    records are never read.
    """

    name: str
    action: Any = None
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    exception: BaseException | None = None
    traceback: str | None = None
    start_wall: datetime | None = None
    end_wall: datetime | None = None
    duration: float | None = None
    status: str = "RUNNING"
    attempts: int = 0
    run_id: str = ""
    parent: ExecutionContext | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    shared: SharedContext | None = None
    hook_errors: list[tuple[str, BaseException]] = field(default_factory=list)
    start: float | None = None  # wall clock, time.time()
    end: float | None = None
    kind: str = "Action"
    command: str | None = None
    record_result: bool = True
    index: int | None = None
    id: int = 0
    undo: tuple[Any, ...] | list[Any] = ()
    recovered: bool = False
    returned_late: bool = False

    def __init__(  # the generated one, minus the four fields made on demand
        self,
        name: str,
        action: Any = None,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        result: Any = None,
        exception: BaseException | None = None,
        traceback: str | None = None,
        start_wall: datetime | None = None,
        end_wall: datetime | None = None,
        duration: float | None = None,
        status: str = "RUNNING",
        attempts: int = 0,
        run_id: str = "",
        parent: ExecutionContext | None = None,
        extra: dict[str, Any] | None = None,
        shared: SharedContext | None = None,
        hook_errors: list[tuple[str, BaseException]] | None = None,
        start: float | None = None,
        end: float | None = None,
        kind: str = "Action",
        command: str | None = None,
        record_result: bool = True,
        index: int | None = None,
        id: int = 0,
        undo: tuple[Any, ...] | list[Any] = (),
        recovered: bool = False,
        returned_late: bool = False,
    ) -> None:
        self.name = name
        self.action = action
        self.args = args
        self.kwargs = {} if kwargs is None else kwargs
        self.result = result
        self.exception = exception
        self.traceback = traceback
        self.duration = duration
        self.status = status
        self.attempts = attempts
        self.run_id = run_id
        self.parent = parent
        self.shared = shared
        self.start = start
        self.end = end
        self.kind = kind
        self.command = command
        self.record_result = record_result
        self.index = index
        self.id = id
        self.undo = undo
        self.recovered = recovered
        self.returned_late = returned_late
        if start_wall is not None:
            self.start_wall = start_wall
        if end_wall is not None:
            self.end_wall = end_wall
        if extra is not None:
            self.extra = extra
        if hook_errors is not None:
            self.hook_errors = hook_errors

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


def _utc(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc)


def _made_on_read(name: str, make: Callable[[ExecutionContext, Any], Any], doc: str) -> None:
    """Read the field `name` from its slot, or, while the slot is empty or None, from `make`.

    Writes go straight to the slot through its own C setter. (A `__getattr__` would do the
    same for less code, but it stops CPython specialising every attribute read of the class.)
    """
    slot = ExecutionContext.__dict__[name]

    def read(ctx: ExecutionContext) -> Any:
        try:
            value = slot.__get__(ctx, ExecutionContext)
        except AttributeError:  # left empty by `__init__`
            value = None
        return make(ctx, slot) if value is None else value

    setattr(ExecutionContext, name, property(read, slot.__set__, doc=doc))


def _created(factory: Callable[[], Any]) -> Callable[[ExecutionContext, Any], Any]:
    def make(ctx: ExecutionContext, slot: Any) -> Any:
        value = factory()
        slot.__set__(ctx, value)
        return value

    return make


_made_on_read("start_wall", lambda ctx, _: _utc(ctx.start),
              "Start as an aware UTC datetime (from `start`, unless set explicitly).")
_made_on_read("end_wall", lambda ctx, _: _utc(ctx.end),
              "End as an aware UTC datetime (from `end`, unless set explicitly).")
_made_on_read("extra", _created(dict),
              "Free-form data hooks and steps may attach to this execution.")
_made_on_read("hook_errors", _created(list),
              "`(hook, exception)` for every hook that raised outside `before`.")


_CURRENT: contextvars.ContextVar[ExecutionContext | None] = contextvars.ContextVar(
    "falyx_current_context", default=None
)


def current_context() -> ExecutionContext | None:
    """The context of the step running in this task, if any."""
    return _CURRENT.get()
