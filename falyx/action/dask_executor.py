"""Dask executors (`dask`, `dask:N`, `dask://HOST:PORT`): the only module importing distributed.

Installed with the `falyx[dask]` extra. Every submission uses `pure=False`, so a retry runs
again instead of returning Dask's cached result; cancelling the returned future (a timeout,
Ctrl-C) cancels the remote future (DESIGN §2.14).
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
        return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._executor.shutdown(wait=wait and not cancel_futures)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __repr__(self) -> str:
        return f"DaskExecutor({self.client.scheduler.address!r})"


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
