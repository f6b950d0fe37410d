"""Functions sent to worker processes by the process-step tests (importable, stdlib only)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def mark(marker: str) -> None:
    """Write `PID START_TIME` to the file `marker` (what the tests wait for and read)."""
    Path(marker).write_text(f"{os.getpid()} {time.time()}")


def marked(marker: Path) -> tuple[int, float]:
    """The pid and start time a task wrote with `mark`."""
    pid, started = marker.read_text().split()
    return int(pid), float(started)


def spin(marker: str | None = None) -> None:
    """Busy-loop forever (pure Python, so an interrupt can reach it); `mark` first."""
    if marker:
        mark(marker)
    while True:
        pass


def spin_deaf(marker: str) -> None:
    """Loop forever with the interrupt signal blocked: only killing the worker stops it."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    mark(marker)
    while True:
        time.sleep(0.05)


def crash(code: int = 3) -> None:
    """End the worker abruptly, as an OOM kill or a segfault would."""
    os._exit(code)


def kill_self(signum: int = signal.SIGKILL) -> None:
    os.kill(os.getpid(), signum)


def crash_first_time(marker: str) -> int:
    """Crash the worker on the first call, succeed (returning the pid) once `marker` exists."""
    path = Path(marker)
    if not path.exists():
        path.write_text("crashed once")
        os._exit(9)
    return os.getpid()


def pid_after(seconds: float = 0.0) -> int:
    time.sleep(seconds)
    return os.getpid()


class TwoArgError(Exception):
    """An exception that pickles but cannot be unpickled (its __init__ takes two arguments)."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code


def raise_two_arg_error() -> None:
    raise TwoArgError(7, "disk on fire")


def fail_until(marker: str, failures: int) -> str:
    """Fail `failures` times (counted in the file `marker`), then return 'done'."""
    path = Path(marker)
    count = int(path.read_text()) if path.exists() else 0
    path.write_text(str(count + 1))
    if count < failures:
        raise RuntimeError(f"attempt {count + 1} failed")
    return "done"


def where() -> str:
    """'dask' inside a Dask worker, else the pid of the process it runs in."""
    try:
        from distributed import get_worker

        get_worker()
        return "dask"
    except (ImportError, ValueError):
        return str(os.getpid())


def gated(marker: str, gate: str) -> str:
    """`mark`, then wait until the file `gate` exists (a task the test lets end)."""
    mark(marker)
    while not os.path.exists(gate):
        time.sleep(0.01)
    return "released"
