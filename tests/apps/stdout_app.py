"""An app whose steps leave stdout in every state: a line left open by a Python print (async
and sync), ended, a shell step's output with and without its final newline, much output, and
a spinner (a terminal) over a line left open."""

from __future__ import annotations

import sys

from falyx import Falyx, ShellAction, chain

app = Falyx("🧪 Stdout test", program="stdout_app")


@app.command(key="P", tags=["open"])
async def open_line(text: str = "progress: 50%") -> int:
    """An async step: a line left open."""
    print(text, end="")
    return 1


@app.command(key="T", tags=["open"])
def open_line_in_thread() -> int:
    """A sync step (a worker thread): a line left open, flushed."""
    print("thread: 75%", end="", flush=True)
    return 2


@app.command(key="E", tags=["ended"])
def ended_line() -> int:
    """A line ended."""
    print("done")
    return 3


@app.command(key="Q", tags=["ended"])
def quiet() -> int:
    """Nothing printed."""
    return 4


@app.command(key="M")
def many(lines: int = 20_000) -> int:
    """Much output (more than a pipe holds)."""
    for i in range(lines):
        print(f"line {i} " + "x" * 60)
    return lines


@app.command(key="F")
def fails_after_printing() -> None:
    """Prints a line left open, then fails."""
    print("half", end="")
    raise RuntimeError("boom")


app.add_command(key="SO", name="shell-open", description="Shell, no final newline", tags=["open"],
                action=ShellAction("shell_open", ["printf", "no newline"]))
app.add_command(key="SE", name="shell-ended", description="Shell, final newline", tags=["ended"],
                action=ShellAction("shell_ended", ["printf", "line\\n"]))
app.add_command(key="SM", name="shell-many", description="Shell, much output",
                action=ShellAction("shell_many", [sys.executable, "-c",
                                                  "for i in range(20000): print('s' * 60)"]))
app.add_command(key="C", description="Chain: shell ended, then a Python line left open",
                action=chain(ShellAction("first", ["printf", "one\\n"]), open_line, name="mixed"))
app.add_command(key="SP", name="spin", description="Spinner over a line left open", spinner=True,
                action=chain(ShellAction("spun", ["printf", "spun"]), open_line_in_thread,
                             name="spun_chain"))

if __name__ == "__main__":
    app()
