"""The output of a shell step's child: streamed through as it comes, and kept (DESIGN §2.11).

stdout is kept whole (it becomes the step's result), stderr only its tail (for the error).
Both are echoed at once to falyx's own `sys.stdout` / `sys.stderr`, after whatever Python
code printed before, so a run's output keeps its order (`--json` prints its object last).
"""

from __future__ import annotations

import asyncio
import codecs
import sys
from typing import TextIO

from falyx.action.process_group import Latch

__all__ = ["TAIL_LINES", "ShellStreams"]

TAIL_LINES = 20  # lines of stderr kept on ShellCommandError.stderr_tail
_TAIL_BYTES = 64 * 1024  # stderr kept in memory to find them


class ShellStreams(asyncio.SubprocessProtocol):
    """Echo the child's stdout/stderr as they come; keep stdout and the tail of stderr."""

    def __init__(self) -> None:
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.exited = Latch()  # the child has been reaped
        self.closed = Latch()  # ... and both pipes have ended
        self._echo = {1: _Echo(sys.stdout), 2: _Echo(sys.stderr)}

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if fd == 1:
            self.stdout += data
        else:
            self.stderr += data
            if len(self.stderr) > 2 * _TAIL_BYTES:
                del self.stderr[:-_TAIL_BYTES]
        self._echo[fd].write(data)

    def process_exited(self) -> None:
        self.exited.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()

    def stderr_tail(self) -> str:
        lines = self.stderr.decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-TAIL_LINES:])


class _Echo:
    """Bytes to a text stream as they come (to its binary buffer when it has one)."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self.decoder: codecs.IncrementalDecoder | None = None  # for a text-only stream

    def write(self, data: bytes) -> None:
        stream = self.stream
        if stream is None:
            return
        try:
            buffer = getattr(stream, "buffer", None)
            stream.flush()  # what Python code printed before comes first
            if buffer is not None:
                buffer.write(data)
                buffer.flush()
            else:
                if self.decoder is None:
                    self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
                stream.write(self.decoder.decode(data))
                stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: keep capturing, stop echoing
            self.stream = None
