"""The menu's prompt logic, driven through prompt_toolkit's pipe input and a dummy output."""

from __future__ import annotations

import asyncio

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from falyx import Falyx
from falyx.menu import handle_entry, run_menu
from falyx.prompts import menu_prompt
from falyx.runner import Session
from tests.conftest import not_an_int

CTRL_C, CTRL_D, CTRL_V = "\x03", "\x04", "\x16"


class Demo:
    """An app with a plain, an aliased, a confirmed and a failing command, and a bottom bar."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.levels: list[bool] = []
        app = self.app = Falyx("Demo", program="menu-test")
        self.verbose = app.bottom_bar.add_toggle("V", "verbose", on_change=self.levels.append)
        app.bottom_bar.add_counter("runs", "Runs", lambda: len(self.calls))
        app.add_command("R", "Run it", self._run("R"), aliases=["GO"], tags=["main"])
        app.add_command("C", "Careful", self._run("C"), confirm=True, style="red")
        app.add_command("F", "Fails", self._fail)

    def _run(self, key: str):
        def body() -> str:
            self.calls.append(key)
            return f"{key} done"

        body.__name__ = f"do_{key.lower()}"
        return body

    def _fail(self) -> None:
        self.calls.append("F")
        raise RuntimeError("boom")


@pytest.fixture
def demo() -> Demo:
    return Demo()


async def type_into_menu(app: Falyx, keys: str, session: Session | None = None) -> int:
    """Run the menu with `keys` already typed; it must exit on its own."""
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        return await asyncio.wait_for(
            run_menu(app, session or Session(), input=pipe, output=DummyOutput()), timeout=10)


async def test_menu_shows_title_commands_and_builtins(demo: Demo, capsys) -> None:
    assert await type_into_menu(demo.app, "x\r") == 0
    err = capsys.readouterr().err
    for text in ("Demo", "# main", "[R] Run it (GO)", "[C] Careful", "[H] Help", "[Y] History",
                 "[X] Exit"):
        assert text in err


async def test_key_runs_its_command_in_any_case_then_returns_to_the_menu(demo: Demo) -> None:
    assert await type_into_menu(demo.app, "r\rR\r go \rx\r") == 0
    assert demo.calls == ["R", "R", "R"]


async def test_question_mark_previews_without_running(demo: Demo, capsys) -> None:
    assert await type_into_menu(demo.app, "?r\rx\r") == 0
    assert demo.calls == []
    err = capsys.readouterr().err
    assert "Command: 'R' — Run it" in err
    assert "do_r" in err


async def test_unknown_input_gets_a_suggestion_and_stays_in_the_menu(demo: Demo, capsys) -> None:
    assert await type_into_menu(demo.app, "rr\rr\rx\r") == 0
    assert "unknown command 'rr'; did you mean 'R'?" in capsys.readouterr().err
    assert demo.calls == ["R"]


async def test_help_lists_the_commands_and_how_to_use_the_prompt(demo: Demo, capsys) -> None:
    assert await type_into_menu(demo.app, "h\rx\r") == 0
    err = capsys.readouterr().err
    assert err.count("[R] Run it") == 2  # the menu, then help
    assert "?KEY to preview" in err
    assert "Ctrl+V flips 'verbose'" in err


async def test_history_shows_the_table_of_runs(demo: Demo, capsys) -> None:
    assert await type_into_menu(demo.app, "r\ry\rx\r") == 0
    err = capsys.readouterr().err
    assert "Execution History" in err
    assert "do_r" in err
    assert '"R done"' in err  # the stored JSON value


async def test_words_reach_the_builtins_too(demo: Demo, capsys) -> None:
    assert await type_into_menu(demo.app, "history\rquit\r") == 0
    assert "Execution History" in capsys.readouterr().err


async def test_failing_command_shows_one_error_line_and_the_menu_goes_on(
    demo: Demo, capsys
) -> None:
    assert await type_into_menu(demo.app, "f\rr\rx\r") == 0
    assert demo.calls == ["F", "R"]
    errors = [line for line in capsys.readouterr().err.splitlines() if "boom" in line]
    assert errors == ["Error: RuntimeError: boom"]


async def test_confirmed_command_is_previewed_then_run(demo: Demo, capsys) -> None:
    assert await type_into_menu(demo.app, "c\rx\r", Session(never_prompt=True)) == 0
    assert demo.calls == ["C"]
    assert "Command: 'C' — Careful" in capsys.readouterr().err


async def test_confirmation_without_a_terminal_is_refused_and_the_menu_goes_on(
    demo: Demo, capsys
) -> None:
    assert await type_into_menu(demo.app, "c\rr\rx\r") == 0
    assert demo.calls == ["R"]
    assert "needs confirmation but there is no terminal" in capsys.readouterr().err


@pytest.mark.parametrize("keys", ["x\r", "X\r", "exit\r", CTRL_D, CTRL_C],
                         ids=["x", "X", "exit", "ctrl-d", "ctrl-c"])
async def test_exit_keys_leave_the_menu_with_status_0(demo: Demo, keys: str) -> None:
    assert await type_into_menu(demo.app, keys) == 0
    assert demo.calls == []


async def test_ctrl_key_flips_its_toggle_and_the_bar_shows_it(demo: Demo) -> None:
    assert await type_into_menu(demo.app, CTRL_V + "r\r" + CTRL_V + CTRL_V + "x\r") == 0
    assert demo.verbose.value is True
    assert demo.levels == [True, False, True]
    toolbar = menu_prompt(demo.app, output=DummyOutput(), history=InMemoryHistory())
    text = "".join(fragment for _, fragment in toolbar.bottom_toolbar())
    assert "^V verbose: ON" in text
    assert "Runs: 1" in text


async def test_a_failing_on_change_does_not_end_the_menu(demo: Demo) -> None:
    def explode(_: bool) -> None:
        raise ValueError("bad hook")

    demo.app.bottom_bar.add_toggle("B", "broken", on_change=explode)
    assert await type_into_menu(demo.app, "\x02r\rx\r") == 0
    assert demo.app.bottom_bar.toggles["b"].value is True
    assert demo.calls == ["R"]


def test_toolbar_redraws_counters_live(demo: Demo) -> None:
    prompt = menu_prompt(demo.app, output=DummyOutput(), history=InMemoryHistory())
    assert ("class:bottom-toolbar.counter", " Runs: 0 ") in prompt.bottom_toolbar()
    demo.calls.append("R")
    assert ("class:bottom-toolbar.counter", " Runs: 1 ") in prompt.bottom_toolbar()
    assert ("class:bottom-toolbar.toggle-off", " ^V verbose: OFF ") in prompt.bottom_toolbar()


def test_an_app_without_a_bar_has_no_toolbar() -> None:
    app = Falyx("Bare", program="bare")
    assert menu_prompt(app, output=DummyOutput(), history=InMemoryHistory()).bottom_toolbar is None


def test_prompt_completes_keys_and_aliases_ignoring_case(demo: Demo) -> None:
    completer = menu_prompt(demo.app, output=DummyOutput(), history=InMemoryHistory()).completer

    def complete(text: str) -> dict[str, str]:
        found = completer.get_completions(Document(text), CompleteEvent())
        return {c.text: c.display_meta_text for c in found}

    assert complete("g") == {"GO": "Run it"}
    assert complete("?r") == {"R": "Run it"}
    assert set(complete("")) == {"R", "GO", "C", "F", "H", "Y", "X"}


async def test_handle_entry_ignores_blank_lines_and_refuses_to_preview_builtins(
    demo: Demo, capsys
) -> None:
    assert await handle_entry(demo.app, Session(), "   ") is None
    assert await handle_entry(demo.app, Session(), "?h") is None
    assert await handle_entry(demo.app, Session(), "?") is None
    err = capsys.readouterr().err
    assert "'H' is the built-in Help" in err
    assert "type a command key after '?'" in err
    assert await handle_entry(demo.app, Session(), "x") == 0


# -- `KEY --opt v` lines ---------------------------------------------------------------------
def parser_for(app: Falyx):
    """The CLI's line parser, as `--menu` hands it to the menu."""
    import typer.main

    from falyx.cli import line_parser

    return line_parser(typer.main.get_command(app.typer).make_context(app.program, []))


@pytest.fixture
def tagged() -> tuple[Falyx, list[object]]:
    calls: list[object] = []
    app = Falyx("Tags", program="tags")

    @app.command(key="T")
    def tag(name: str, force: bool = False, count: int = 1) -> None:
        """Tag a release."""
        calls.append((name, force, count))

    return app, calls


async def test_words_after_a_key_are_parsed_by_the_commands_cli(tagged, capsys) -> None:
    app, calls = tagged
    parse = parser_for(app)

    assert await handle_entry(app, Session(), "t 'v2 rc' --force --count 3", parse) is None
    assert await handle_entry(app, Session(), "?t v3", parse) is None

    assert calls == [("v2 rc", True, 3)]  # shlex keeps the quoted words together
    assert "⚑ Arguments: name=v3, force=False, count=1" in capsys.readouterr().err


async def test_bad_words_after_a_key_print_one_error_line_and_run_nothing(
    tagged, capsys
) -> None:
    app, calls = tagged
    parse = parser_for(app)

    for line in ("t", "t v1 --count x", "t v1 --bogus", "t 'v1", "h extra", "?x"):
        assert await handle_entry(app, Session(), line, parse) is None
    err = capsys.readouterr().err.splitlines()

    assert calls == []
    bad_int = not_an_int("x").rstrip(".") + "."  # Typer's message, ended as the CLI ends it
    assert err == [
        "Error: T: Missing argument 'name'.",
        f"Error: T: Invalid value for '--count': {bad_int}",
        "Error: T: No such option: --bogus.",
        "Error: No closing quotation",
        "Error: H takes only -t TAG, got 'extra'",
        "Error: 'X' is the built-in Exit; only commands have a preview",
    ]


async def test_key_help_prints_the_commands_help_and_stays_in_the_menu(tagged, capsys) -> None:
    app, calls = tagged

    assert await handle_entry(app, Session(), "t --help", parser_for(app)) is None
    assert "Tag a release." in capsys.readouterr().out
    assert calls == []


async def test_without_the_cli_a_key_takes_no_words(tagged, capsys) -> None:
    app, calls = tagged

    assert await handle_entry(app, Session(), "t v1") is None
    assert "T: this menu takes no options after a key" in capsys.readouterr().err
    assert calls == []


def test_prompt_completes_a_commands_options_after_its_key(tagged) -> None:
    app, _ = tagged
    completer = menu_prompt(app, output=DummyOutput(), history=InMemoryHistory()).completer

    def complete(text: str) -> list[str]:
        return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]

    assert complete("t --f") == ["--force"]
    assert complete("?t v1 --c") == ["--count", "--confirm"]
    assert complete("t --re") == ["--retries", "--retry-delay", "--retry-backoff"]
    assert complete("nope --f") == []
