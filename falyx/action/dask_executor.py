"""Dask executors (`dask`, `dask:N`, `dask://HOST:PORT`): the only module importing distributed.

Installed with the `falyx[dask]` extra. Every submission uses `pure=False`, so a retry runs
again instead of returning Dask's cached result; cancelling the returned future (a timeout,
Ctrl-C) cancels the remote future (DESIGN §2.14).

Dask cannot stop a task a worker has started: cancelling its future releases it (the driver
never sees its result) while the worker runs it to its end. So a cancelled process step asks
the scheduler which of its tasks are processing (`DaskExecutor.processing`), cancels the
others and waits for those, as for a sync step's thread (`falyx.action.process`).
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import Executor, Future
from typing import Any

from falyx.action.executors import DASK_MISSING
from falyx.errors import ExecutorError

__all__ = ["CONNECT_TIMEOUT_ENV", "DaskExecutor", "connect"]

#: Seconds to wait for a scheduler before giving up (default 10).
CONNECT_TIMEOUT_ENV = "FALYX_DASK_TIMEOUT"


class DaskExecutor(Executor):
    """A `concurrent.futures.Executor` over a Dask client (and the cluster falyx started)."""

    cloudpickle = True  # Dask serialises with cloudpickle: no stdlib-pickle check

    def __init__(self, client: Any, cluster: Any = None) -> None:
        self.client = client
        self.cluster = cluster
        self._executor = client.get_executor(pure=False)

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        """`fn(*args, **kwargs)` on the cluster (as `Client.get_executor(pure=False)` does).

        The returned future is marked running at once (only Dask knows whether the task has
        started): `release` cancels the task, `processing` says which have started."""
        task = self.client.submit(fn, *args, pure=False, **kwargs)
        future: Future[Any] = Future()
        future.set_running_or_notify_cancel()
        # on the client's event loop, as distributed's own ClientExecutor does: no thread hop
        # and no blocking `result()` per task
        self.client.loop.add_callback(_settle, future, task)
        future.dask_future = task  # type: ignore[attr-defined]  # freed with the future
        return future

    async def processing(self, futures: list[Future[Any]]) -> list[bool]:
        """For each future, whether the scheduler has its task on a worker (started, or about
        to start there: Dask can no longer take it back). Unknown futures: False."""
        processing = await asyncio.to_thread(self.client.processing)
        keys = {key for keys in processing.values() for key in keys}
        return [getattr(getattr(f, "dask_future", None), "key", None) in keys for f in futures]

    def release(self, future: Future[Any]) -> None:
        """Cancel the task behind `future`: one not started never runs; one a worker runs goes
        on to its end there, its result dropped (Dask cannot stop it)."""
        task = getattr(future, "dask_future", None)
        if task is not None:
            task.cancel()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._executor.shutdown(wait=wait and not cancel_futures)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __repr__(self) -> str:
        return f"DaskExecutor({self.client.scheduler.address!r})"


async def _settle(future: Future[Any], task: Any) -> None:
    """Hand a Dask future's outcome to `future` once it is known (on the client's loop;
    `Future._result(raiseit=False)` is what `distributed.cfexecutor` awaits too), then let go
    of the Dask future, so the scheduler forgets the task however long `future` is kept (a
    record's traceback keeps it)."""
    outcome = await task._result(raiseit=False)
    future.__dict__.pop("dask_future", None)
    if future.done():
        return
    if task.status == "finished":
        future.set_result(outcome)
    elif task.status == "cancelled":
        from concurrent.futures import CancelledError

        future.set_exception(CancelledError(f"Dask task {task.key} was cancelled"))
    else:
        _, exc, traceback = outcome
        future.set_exception(exc.with_traceback(traceback))


def connect(address: str | None, workers: int | None = None) -> DaskExecutor:
    """A `DaskExecutor` on the scheduler at `address`, or on a new local cluster of
    `workers` processes. Raises `ExecutorError` without the extra, or when nothing answers
    at `address` within the connect timeout."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ExecutorError(DASK_MISSING) from None
    if address is None:
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                               processes=True, dashboard_address=None)
        return DaskExecutor(Client(cluster), cluster)
    timeout = float(os.environ.get(CONNECT_TIMEOUT_ENV) or 10)
    try:
        client = Client(address, timeout=timeout)
    except (OSError, TimeoutError, asyncio.TimeoutError) as exc:  # distinct before 3.11
        raise ExecutorError(
            f"no Dask scheduler answered at {address} within {timeout:g}s "
            f"({type(exc).__name__}); start one or check the address") from None
    return DaskExecutor(client)
