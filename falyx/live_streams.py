"""Streams that print through a live display (a spinner), so nothing lands on its line.

While a spinner spins, `sys.stderr` (and `sys.stdout` when it is the same terminal) are
`LiveStream`s: text and bytes written to them (log lines, prints, a shell step's echo) are
handed, a whole line at a time, to the function that prints above the spinner (rich's
`Console.print`; `falyx.render.spinner` wires it). Standard library only.
"""

from __future__ import annotations

import codecs
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from falyx.stdout import StandIn

__all__ = ["LiveStream", "routed", "same_terminal"]


class LiveStream(StandIn):
    """A text stream, with a binary `.buffer`, that hands whole lines to `print_lines`
    (their text, joined by newlines); a line not yet ended waits for its end, or `release()`.

    `owner` is whatever drew the display (the console); `stream` the stream it stands for.
    """

    def __init__(self, print_lines: Callable[[str], None], stream: TextIO, owner: Any = None
                 ) -> None:
        self.print_lines = print_lines
        self.stream = stream
        self.owner = owner
        self.buffer = _LiveBuffer(self, getattr(stream, "encoding", None) or "utf-8")
        self._pending = ""
        self._lock = threading.Lock()  # worker threads print too

    def write(self, text: str) -> int:
        with self._lock:
            *lines, self._pending = (self._pending + text).split("\n")
            if lines:  # under the lock: two threads' lines keep their order
                self.print_lines("\n".join(lines))
        return len(text)

    def release(self) -> None:
        """Print the line not yet ended. The stream stays open: a late writer (a worker thread
        still printing) gets its lines printed, by then with no display to draw around."""
        with self._lock:
            rest, self._pending = self._pending, ""
            if rest:
                self.print_lines(rest)



class _LiveBuffer:
    """`LiveStream.buffer`: bytes decoded into the live stream's lines."""

    def __init__(self, owner: LiveStream, encoding: str) -> None:
        self.owner = owner
        self.decoder = codecs.getincrementaldecoder(encoding)("replace")

    def write(self, data: bytes) -> int:
        self.owner.write(self.decoder.decode(data))
        return len(data)

    def flush(self) -> None:
        pass  # lines go out when they end


@contextmanager
def routed(print_lines: Callable[[str], None], terminal: TextIO, owner: Any = None
           ) -> Iterator[None]:
    """Within the block, `sys.stderr` (and `sys.stdout` when it is the same terminal as
    `terminal`) are `LiveStream`s on `print_lines`; restored, pending text printed, after."""
    names = ["stderr"] + (["stdout"] if same_terminal(sys.stdout, terminal) else [])
    saved = {name: getattr(sys, name) for name in names}
    lives = {name: LiveStream(print_lines, stream, owner) for name, stream in saved.items()}
    for name, live in lives.items():
        setattr(sys, name, live)
    try:
        yield
    finally:
        for name, stream in saved.items():
            setattr(sys, name, stream)
            lives[name].release()


def same_terminal(one: TextIO, other: TextIO) -> bool:
    """True when both streams are the same terminal (stdout and stderr on one tty)."""
    try:
        return one.isatty() and os.path.samestat(os.fstat(one.fileno()), os.fstat(other.fileno()))
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError
        return False
