"""The output of a shell step's child: echoed as it comes, stdout kept, the tail of stderr kept."""

from __future__ import annotations

import io
import itertools
from contextlib import redirect_stderr

import pytest
from hypothesis import given
from hypothesis import strategies as st

from falyx.action.shell_streams import TAIL_LINES, ShellStreams

LINES = st.lists(st.text(st.characters(blacklist_categories=("Cs",),
                                       blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85"
                                                            "\u2028\u2029"), max_size=40),
                 max_size=60)


def feed(streams: ShellStreams, fd: int, data: bytes, cuts: list[int]) -> None:
    """`data` delivered in pieces, cut at the given offsets, as a pipe may deliver it."""
    edges = [0, *sorted({c % (len(data) + 1) for c in cuts}), len(data)]
    for start, end in itertools.pairwise(edges):
        if end > start:
            streams.pipe_data_received(fd, data[start:end])


@given(lines=LINES, cuts=st.lists(st.integers(min_value=0), max_size=8))
def test_the_stderr_tail_is_the_last_lines_however_the_pipe_cuts_them(
    lines: list[str], cuts: list[int]
) -> None:
    text = "".join(f"{line}\n" for line in lines)
    with redirect_stderr(io.StringIO()) as echoed:
        streams = ShellStreams()
        feed(streams, 2, text.encode(), cuts)

    assert streams.stderr_tail() == "\n".join(lines[-TAIL_LINES:])
    assert echoed.getvalue() == text


def test_a_long_stderr_is_kept_bounded_and_its_tail_intact() -> None:
    with redirect_stderr(io.StringIO()):
        streams = ShellStreams()
        for i in range(50_000):
            streams.pipe_data_received(2, f"progress line {i}\n".encode())

    assert len(streams.stderr) <= 2 * 64 * 1024
    assert streams.stderr_tail().splitlines() == [f"progress line {i}"
                                                  for i in range(50_000 - TAIL_LINES, 50_000)]


def test_a_stream_without_a_byte_buffer_gets_text_decoded_across_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    streams = ShellStreams()

    for chunk in (b"caf", b"\xc3", b"\xa9 \xe2\x9c", b"\x93\n"):  # é and ✓ split in two
        streams.pipe_data_received(1, chunk)

    assert out.getvalue() == "café ✓\n"
    assert bytes(streams.stdout) == "café ✓\n".encode()


def test_a_closed_stream_stops_the_echo_but_not_the_capture(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed = io.TextIOWrapper(io.BytesIO())
    closed.close()
    monkeypatch.setattr("sys.stdout", closed)
    streams = ShellStreams()

    streams.pipe_data_received(1, b"one\n")
    streams.pipe_data_received(1, b"two\n")

    assert bytes(streams.stdout) == b"one\ntwo\n"  # and no error from the closed stream
