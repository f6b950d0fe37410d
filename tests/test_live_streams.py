"""`LiveStream`: whatever is written to it, as text or bytes in any pieces, comes out as the same
text, a whole line at a time; `routed` swaps the standard streams and puts them back."""

from __future__ import annotations

import io
import sys
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from falyx.live_streams import LiveStream, routed, same_terminal


class Collected:
    """A `print_lines` that keeps what it is given."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, text: str) -> None:
        self.calls.append(text)

    def text(self, ends_with_newline: bool) -> str:
        return "\n".join(self.calls) + ("\n" if ends_with_newline and self.calls else "")


pieces = st.lists(st.tuples(st.text(max_size=12), st.booleans(), st.integers(1, 4)),
                  max_size=12)


@settings(max_examples=300, deadline=None)
@given(pieces)
def test_text_and_bytes_in_any_pieces_come_out_as_the_same_text(
    chunks: list[tuple[str, bool, int]]
) -> None:
    printed = Collected()
    stream = LiveStream(printed, io.StringIO())
    for text, as_bytes, step in chunks:
        if as_bytes:  # a shell step's echo: bytes, cut anywhere (inside a character too)
            data = text.encode()
            for start in range(0, len(data), step):
                stream.buffer.write(data[start:start + step])
        else:
            stream.write(text)
    stream.release()

    written = "".join(text for text, _, _ in chunks)
    assert printed.text(written.endswith("\n")) == written
    assert all(not call.endswith("\n") for call in printed.calls)


def test_a_line_waits_for_its_end_and_release_prints_the_rest() -> None:
    printed = Collected()
    stream = LiveStream(printed, io.StringIO())

    stream.write("start of ")
    stream.flush()  # a flush does not cut a line in two
    assert printed.calls == []
    stream.write("a line\nand a tail")
    assert printed.calls == ["start of a line"]
    stream.release()
    assert printed.calls == ["start of a line", "and a tail"]
    stream.write("late\n")  # still open: a late writer is not an error
    assert printed.calls[-1] == "late"


def test_lines_from_threads_are_never_mixed() -> None:
    printed = Collected()
    stream = LiveStream(printed, io.StringIO())

    def write(word: str) -> None:
        for _ in range(200):
            stream.write(word)
            stream.write(f" {word}\n")

    threads = [threading.Thread(target=write, args=(w,)) for w in ("alpha", "beta", "gamma")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    lines = printed.text(True).splitlines()
    assert len(lines) == 600
    assert {line.split()[0] == line.split()[1] for line in lines} == {True}


def test_routed_replaces_stderr_only_when_stdout_is_not_the_same_terminal(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    printed = Collected()

    with routed(printed, err):
        assert isinstance(sys.stderr, LiveStream) and sys.stdout is out
        print("to stderr", file=sys.stderr, end="")
        print("to stdout")
    assert sys.stderr is err
    assert printed.calls == ["to stderr"]  # the unended line, printed when the block ends
    assert out.getvalue() == "to stdout\n" and err.getvalue() == ""
    assert not same_terminal(out, err)
