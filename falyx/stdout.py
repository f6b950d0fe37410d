"""falyx's standard output: where its lines end, and a reader that has gone (DESIGN §2.6).

- While a command runs, `sys.stdout` is a `TrackedStdout`: everything the run writes to stdout
  (a step's `print`, a shell step's echo through `.buffer`, a worker thread) passes through
  it, so it knows whether the last character written ended a line. `--json` uses that to
  start its object on a line of its own, and adds nothing when the line had ended.
- A closed pipe (`falyx run R | head -1`): the reader has gone, so what the run still prints
  is discarded (stdout is pointed at the null device, Python's documented idiom, see "Note
  on SIGPIPE" in the `signal` docs) and the run goes on to its own end and exit code, for
  Python steps as for shell steps (whose echo stops the same way).
- `closed_pipe_exit`: around every entry point. Output that is not a run (`--help`,
  `history --json`, `falyx schema`) into a closed pipe ends quietly with exit code 1, never a
  traceback: the code of Python's documented idiom, and the one Click gives its own output
  (help, usage) in the same place, so every path says the same. (A shell's 141 would be told
  apart from a failure, but Click, which prints the help, cannot be made to give it.)

Standard library only.
"""

from __future__ import annotations

import io
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

__all__ = ["CLOSED_PIPE_EXIT", "StandIn", "TrackedStdout", "at_line_start", "closed_pipe_exit",
           "tracked_stdout", "write_line"]

#: The exit code when the reader of stdout has gone (Python's idiom and Click's choice).
CLOSED_PIPE_EXIT = 1


class StandIn(io.TextIOBase):
    """A text stream that stands in for `stream` (its terminal, descriptor and encoding);
    the base of `TrackedStdout` and `falyx.live_streams.LiveStream`."""

    stream: TextIO

    def close(self) -> None:
        """Nothing: the stream stood in for is not this object's to flush or close. (`IOBase`
        closes, so flushes, on garbage collection, when the stream may already be closed by
        its owner; Python 3.13 reports the error that raises.)"""

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", None) or "utf-8"


class TrackedStdout(StandIn):
    """`stream` (stdout), knowing whether its last character ended a line; a closed pipe
    makes it discard what follows instead of raising `BrokenPipeError`."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.at_line_start = True
        self.reader_gone = False
        raw = getattr(stream, "buffer", None)
        self.buffer = _TrackedBuffer(self, raw) if raw is not None else None
        # Worker threads print too: a write and what it says about the line go together.
        self.lock = threading.RLock()

    def write(self, text: str) -> int:
        if text:
            with self.lock:
                self._guarded(self.stream.write, text)
                self.at_line_start = text.endswith("\n")
        return len(text)

    def write_line(self, text: str) -> None:
        """Write `text` (a line with its newline) at the start of a line: after ending the
        line the last write left open, if any."""
        with self.lock:
            self.write(text if self.at_line_start else "\n" + text)

    def flush(self) -> None:
        self._guarded(self.stream.flush)

    def _guarded(self, call: Any, *args: Any) -> Any:
        try:
            return call(*args)
        except BrokenPipeError:
            self.reader_gone = True
            point_at_devnull(self.stream)
            return None

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.stream, "errors", None)

    def __getattr__(self, name: str) -> Any:  # the wrapped stream's other attributes
        return getattr(self.stream, name)


class _TrackedBuffer:
    """`TrackedStdout.buffer`: the binary side (a shell step's echo), tracked the same way."""

    def __init__(self, owner: TrackedStdout, raw: Any) -> None:
        self.owner = owner
        self.raw_buffer = raw

    def write(self, data: bytes) -> int:
        if data:
            with self.owner.lock:
                self.owner._guarded(self.raw_buffer.write, data)
                self.owner.at_line_start = data.endswith(b"\n")
        return len(data)

    def flush(self) -> None:
        self.owner._guarded(self.raw_buffer.flush)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw_buffer, name)


def at_line_start(stream: Any) -> bool:
    """Whether the last character written to `stream` ended a line (True when unknown)."""
    return bool(getattr(stream, "at_line_start", True))


def write_line(stream: Any, text: str) -> None:
    """Write `text` (a line with its newline) to `stream` on a line of its own (as written,
    when `stream` is not a `TrackedStdout`: nothing is known of its line)."""
    if isinstance(stream, TrackedStdout):
        stream.write_line(text)
    else:
        stream.write(text)


@contextmanager
def tracked_stdout() -> Iterator[TrackedStdout]:
    """Within the block `sys.stdout` is a `TrackedStdout` (the one already there, when nested);
    flushed on the way out, so a reader gone by then is noticed here, not at exit."""
    current = sys.stdout
    if isinstance(current, TrackedStdout):
        yield current
        return
    tracked = TrackedStdout(current)
    sys.stdout = tracked
    try:
        yield tracked
    finally:
        tracked.flush()
        if sys.stdout is tracked:
            sys.stdout = current


@contextmanager
def closed_pipe_exit() -> Iterator[None]:
    """Around an entry point: a `BrokenPipeError` (the reader of stdout or stderr has gone)
    ends the program quietly with `SystemExit(CLOSED_PIPE_EXIT)` (1).

    stdout is flushed before leaving, so a closed pipe shows here rather than in the
    interpreter's final flush ("Exception ignored ... BrokenPipeError").
    """
    try:
        try:
            yield
        finally:
            sys.stdout.flush()
    except BrokenPipeError:
        point_at_devnull(sys.stdout)
        try:
            sys.stderr.flush()
        except BrokenPipeError:
            point_at_devnull(sys.stderr)
        raise SystemExit(CLOSED_PIPE_EXIT) from None


def point_at_devnull(stream: Any) -> None:
    """Point the file descriptor under `stream` at the null device: what is still written (or
    flushed at exit) is discarded instead of raising `BrokenPipeError` again."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):  # not a real file (a test's StringIO)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
