"""`ExecutionRegistry`: every step execution, in a bounded in-memory ring.

A run's records are buffered until its top-level step finishes, then handed to the
optional persistent `HistoryStore` in one call (one transaction).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Protocol

from falyx.context import ExecutionContext

__all__ = ["ExecutionRegistry", "HistoryStore", "default_registry"]

logger = logging.getLogger("falyx")


class HistoryStore(Protocol):
    """Where finished runs are persisted (the SQLite store, or a user's own)."""

    def write_run(self, records: Sequence[ExecutionContext]) -> None: ...


class ExecutionRegistry:
    """Records of step executions, newest last, at most `limit` kept in memory."""

    def __init__(self, limit: int = 10_000, store: HistoryStore | None = None) -> None:
        if limit < 1:
            raise ValueError(f"history limit must be at least 1, got {limit}")
        self.limit = limit
        self.store = store
        self._ring: deque[ExecutionContext] = deque(maxlen=limit)
        self._next_index = 0
        self._pending: dict[str, list[ExecutionContext]] = {}

    def record(self, ctx: ExecutionContext) -> None:
        """Add a finished context; hand its run to the store when the run is complete."""
        ctx.index = self._next_index
        self._next_index += 1
        self._ring.append(ctx)
        if self.store is None:
            return
        run = self._pending.setdefault(ctx.run_id, [])
        run.append(ctx)
        if ctx.parent is None:
            del self._pending[ctx.run_id]
            self._persist(run)

    def _persist(self, run: list[ExecutionContext]) -> None:
        try:
            self.store.write_run(run)  # type: ignore[union-attr]
        except Exception as exc:  # the store degrades itself; this is the last guard
            logger.warning("history could not be written (%s: %s); keeping it in memory only",
                           type(exc).__name__, exc)
            self.store = None

    def records(
        self,
        *,
        name: str | None = None,
        status: str | None = None,
        run_id: str | None = None,
        command: str | None = None,
    ) -> list[ExecutionContext]:
        """Records in order, filtered by name, status (OK/ERROR/CANCELLED), run or command."""
        status = status.upper() if status else None
        return [
            ctx for ctx in self._ring
            if (name is None or ctx.name == name)
            and (status is None or ctx.status == status)
            and (run_id is None or ctx.run_id == run_id)
            and (command is None or (ctx.command or "").upper() == command.upper())
        ]

    def get(self, index: int) -> ExecutionContext:
        """The record with this index (`IndexError` if unknown or dropped from the ring)."""
        first = self._next_index - len(self._ring)
        if not first <= index < self._next_index:
            raise IndexError(f"no history record with index {index}")
        return self._ring[index - first]

    def latest(self) -> ExecutionContext | None:
        """The newest record, if any."""
        return self._ring[-1] if self._ring else None

    def clear(self) -> None:
        """Forget every in-memory record (indices keep counting up)."""
        self._ring.clear()
        self._pending.clear()

    def __len__(self) -> int:
        return len(self._ring)

    def __iter__(self) -> Iterator[ExecutionContext]:
        return iter(list(self._ring))


_default: list[ExecutionRegistry] = []


def default_registry() -> ExecutionRegistry:
    """The process-wide registry used by steps run outside an app."""
    if not _default:
        _default.append(ExecutionRegistry())
    return _default[0]
