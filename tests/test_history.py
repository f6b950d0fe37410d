"""ExecutionRegistry: the bounded ring, filters, latest/clear, handing runs to a store."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest

from falyx import Action, ChainedAction, ExecutionContext, ExecutionRegistry
from falyx.action.options import RunOptions, using_options
from falyx.history import default_registry


def _ctx(name: str, status: str = "OK", run_id: str = "run", command: str | None = None):
    ctx = ExecutionContext(name, run_id=run_id, command=command)
    ctx.status = status
    return ctx


async def ok() -> str:
    return "fine"


async def fails() -> None:
    raise ValueError("nope")


def test_records_come_back_in_order_with_increasing_indices() -> None:
    registry = ExecutionRegistry()
    for name in "abc":
        registry.record(_ctx(name))
    assert [r.name for r in registry.records()] == ["a", "b", "c"]
    assert [r.index for r in registry.records()] == [0, 1, 2]
    assert len(registry) == 3 and [r.name for r in registry] == ["a", "b", "c"]


def test_ring_drops_the_oldest_records_beyond_its_limit() -> None:
    registry = ExecutionRegistry(limit=3)
    for i in range(5):
        registry.record(_ctx(f"s{i}"))
    assert [r.name for r in registry.records()] == ["s2", "s3", "s4"]
    assert len(registry) == 3


def test_get_of_a_dropped_or_unknown_index_raises_index_error() -> None:
    registry = ExecutionRegistry(limit=2)
    for i in range(4):
        registry.record(_ctx(f"s{i}"))
    assert registry.get(2).name == "s2" and registry.get(3).name == "s3"
    for index in (0, 1, 4, -1):
        with pytest.raises(IndexError, match=str(index)):
            registry.get(index)


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="limit"):
        ExecutionRegistry(limit=0)


def test_default_limit_is_ten_thousand() -> None:
    assert ExecutionRegistry().limit == 10_000


def test_records_filter_by_name_status_run_and_command() -> None:
    registry = ExecutionRegistry()
    registry.record(_ctx("build", "OK", "r1", command="B"))
    registry.record(_ctx("test", "ERROR", "r1", command="B"))
    registry.record(_ctx("build", "CANCELLED", "r2", command="R"))
    assert [r.run_id for r in registry.records(name="build")] == ["r1", "r2"]
    assert [r.name for r in registry.records(status="error")] == ["test"]
    assert [r.name for r in registry.records(status="CANCELLED")] == ["build"]
    assert [r.name for r in registry.records(run_id="r1")] == ["build", "test"]
    assert [r.run_id for r in registry.records(command="r")] == ["r2"]
    assert registry.records(name="build", status="OK", run_id="r1") == [registry.get(0)]
    assert registry.records(name="deploy") == []


def test_latest_is_the_newest_record_or_none() -> None:
    registry = ExecutionRegistry()
    assert registry.latest() is None
    registry.record(_ctx("a"))
    registry.record(_ctx("b"))
    assert registry.latest().name == "b"


def test_clear_forgets_records_but_indices_keep_counting() -> None:
    registry = ExecutionRegistry()
    registry.record(_ctx("a"))
    registry.clear()
    assert (len(registry), registry.latest(), registry.records()) == (0, None, [])
    with pytest.raises(IndexError):
        registry.get(0)
    registry.record(_ctx("b"))
    assert registry.latest().index == 1 and registry.get(1).name == "b"


async def test_every_step_of_a_run_is_recorded_children_first(registry) -> None:
    with pytest.raises(ValueError):
        await ChainedAction("pipeline", [Action("one", ok), Action("two", fails)])()
    assert [(r.name, r.status) for r in registry.records()] == [
        ("one", "OK"), ("two", "ERROR"), ("pipeline", "ERROR")]
    assert [r.kind for r in registry.records()] == ["Action", "Action", "ChainedAction"]


async def test_steps_outside_a_run_record_into_the_default_registry() -> None:
    before = len(default_registry())
    await Action("standalone", ok)()
    assert len(default_registry()) == min(before + 1, default_registry().limit)
    assert default_registry().latest().name == "standalone"


class ListStore:
    """A history store that keeps each written run."""

    def __init__(self) -> None:
        self.runs: list[list[str]] = []

    def write_run(self, records: Sequence[ExecutionContext]) -> None:
        self.runs.append([r.name for r in records])


async def test_a_finished_run_is_handed_to_the_store_in_one_call() -> None:
    store = ListStore()
    registry = ExecutionRegistry(store=store)
    with using_options(RunOptions(registry=registry)):
        await ChainedAction("pipeline", [Action("one", ok), Action("two", ok)])()
        assert store.runs == [["one", "two", "pipeline"]]
        await Action("solo", ok)()
    assert store.runs == [["one", "two", "pipeline"], ["solo"]]


class BrokenStore:
    def __init__(self) -> None:
        self.calls = 0

    def write_run(self, records: Sequence[ExecutionContext]) -> None:
        self.calls += 1
        raise OSError("disk full")


async def test_a_failing_store_degrades_to_memory_with_one_warning(caplog, monkeypatch) -> None:
    logger = logging.getLogger("falyx")
    monkeypatch.setattr(logger, "propagate", True)
    monkeypatch.setattr(logger, "disabled", False)
    caplog.set_level(logging.WARNING, logger="falyx")
    store = BrokenStore()
    registry = ExecutionRegistry(store=store)
    with using_options(RunOptions(registry=registry)):
        assert await Action("first", ok)() == "fine"
        assert await Action("second", ok)() == "fine"
    warnings = [r for r in caplog.records if "history could not be written" in r.getMessage()]
    assert len(warnings) == 1 and "disk full" in warnings[0].getMessage()
    assert store.calls == 1 and registry.store is None
    assert [r.name for r in registry.records()] == ["first", "second"]
