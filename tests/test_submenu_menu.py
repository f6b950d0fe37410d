"""The menu's submenu logic, driven through prompt_toolkit's pipe input and a dummy output:
which table is drawn, what the prompt and completion offer at each level, what `Y` lists."""

from __future__ import annotations

import asyncio
import re

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from falyx import Falyx
from falyx.menu import handle_entry, run_menu
from falyx.prompts import menu_message, menu_prompt, show_level
from falyx.runner import Session


def make_tree(calls: list[str]) -> tuple[Falyx, Falyx, Falyx]:
    root = Falyx("Root menu", program="root")
    ops = Falyx("Ops menu", program="ops")
    db = Falyx("DB menu", program="db")

    def runner(label: str):
        def body() -> str:
            calls.append(label)
            return label

        body.__name__ = label.replace(".", "_").lower()
        return body

    root.add_command("R", "Release", runner("R"), name="release")
    ops.add_command("R", "Restart", runner("O.R"), name="restart", aliases=["BACK"])
    def vacuum(table: str = "all") -> str:
        calls.append("O.D.V")
        return "O.D.V"

    db.add_command("V", "Vacuum", vacuum, name="vacuum")
    root.bottom_bar.add_counter("calls", "Calls", lambda: len(calls))
    ops.bottom_bar.add_static("where", "ops bar")
    ops.add_submenu("D", "Database", db)
    root.add_submenu("O", "Ops", ops)
    return root, ops, db


async def type_into(app: Falyx, keys: str) -> int:
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        return await asyncio.wait_for(
            run_menu(app, Session(), input=pipe, output=DummyOutput()), timeout=10)


async def test_keys_walk_the_tree_and_run_each_levels_commands(capsys) -> None:
    calls: list[str] = []
    root, _, _ = make_tree(calls)

    assert await type_into(root, "o\rr\rd\rv\rb\rb\rr\rx\r") == 0

    assert calls == ["O.R", "O.D.V", "R"]
    titles = [line.strip() for line in capsys.readouterr().err.splitlines()
              if line.strip().endswith("menu")]
    # every level's table as it is entered, and again after each command ran
    assert titles == ["Root menu", "Ops menu", "Ops menu", "DB menu", "DB menu", "Ops menu",
                      "Root menu", "Root menu"]


async def test_x_exits_from_two_levels_down() -> None:
    calls: list[str] = []
    root, _, _ = make_tree(calls)

    assert await type_into(root, "o\rd\rx\r") == 0
    assert await type_into(root, "O\rD\r\x04") == 0  # Ctrl-D too


async def test_back_is_a_word_too_unless_a_command_claims_it() -> None:
    calls: list[str] = []
    _, ops, db = make_tree(calls)

    assert await handle_entry(db, Session(), "back") is ops   # db: the built-in
    assert await handle_entry(ops, Session(), "back") is None  # ops: its command's alias
    assert calls == ["O.R"]


async def test_b_at_the_root_is_an_unknown_key_and_builtins_refuse_options(capsys) -> None:
    calls: list[str] = []
    root, ops, _ = make_tree(calls)

    assert await handle_entry(root, Session(), "b") is None
    assert await handle_entry(ops, Session(), "?b") is None
    assert await handle_entry(ops, Session(), "b now") is None
    assert await handle_entry(root, Session(), "o now") is None

    assert capsys.readouterr().err.splitlines() == [
        "Error: unknown command 'b'; type H for the commands",
        "Error: 'B' is the built-in Back; only commands have a preview",
        "Error: 'B' (Back) takes no arguments",
        "Error: 'o' opens the menu 'Ops' and takes no options; to run one of its commands from "
        "here, type o.KEY",
    ]
    assert calls == []


async def test_y_in_a_submenu_lists_only_its_runs(capsys) -> None:
    calls: list[str] = []
    root, ops, db = make_tree(calls)
    for key in ("R", "O.R", "O.D.V"):
        await root.run_key(key)
    capsys.readouterr()

    await handle_entry(db, Session(), "y")
    in_db = capsys.readouterr().err
    await handle_entry(ops, Session(), "y")
    in_ops = capsys.readouterr().err
    await handle_entry(root, Session(), "y")
    at_root = capsys.readouterr().err

    def results(table: str) -> set[str]:  # each command returns its own label
        return set(re.findall(r'"(R|O\.R|O\.D\.V)"', table))

    assert results(in_db) == {"O.D.V"}
    assert results(in_ops) == {"O.R", "O.D.V"}
    assert results(at_root) == {"R", "O.R", "O.D.V"}
    assert "[O.D.V] Vacuum" in in_db and "o_r" not in in_db


async def test_help_in_a_submenu_shows_back_and_how_paths_work(capsys) -> None:
    calls: list[str] = []
    _, ops, _ = make_tree(calls)

    assert await handle_entry(ops, Session(), "h") is None

    err = capsys.readouterr().err
    assert "Ops menu" in err and "[D] Database ▸" in err
    assert "[H] Help  [Y] History  [X] Exit  [B] Back" in err
    assert "O.R runs its R from here" in err and "B goes back" in err


def completions(prompt, text: str) -> list[str]:
    return [c.text for c in prompt.completer.get_completions(Document(text), CompleteEvent())]


def test_the_prompt_and_completion_follow_the_level() -> None:
    calls: list[str] = []
    root, ops, db = make_tree(calls)
    prompt = menu_prompt(root, output=DummyOutput(), history=InMemoryHistory())

    assert prompt.message == "> " and menu_message(db) == "ops > db > "
    assert completions(prompt, "") == ["R", "O", "H", "Y", "X"]
    assert completions(prompt, "o.d.v --t") == ["--table"]  # a path's command's options
    show_level(prompt, ops)
    assert prompt.message == "ops > "
    assert completions(prompt, "") == ["R", "BACK", "D", "H", "Y", "X", "B"]
    assert completions(prompt, "d") == ["D"]
    show_level(prompt, db)
    assert prompt.message == "ops > db > "
    assert completions(prompt, "v --t") == ["--table"]


def test_the_bottom_bar_shows_every_level_down_to_the_current_one() -> None:
    calls: list[str] = []
    root, ops, db = make_tree(calls)
    prompt = menu_prompt(root, output=DummyOutput(), history=InMemoryHistory())

    def bar() -> str:
        return "".join(text for _, text in prompt.bottom_toolbar())

    assert "Calls: 0" in bar() and "ops bar" not in bar()
    show_level(prompt, ops)
    assert "Calls: 0" in bar() and "ops bar" in bar()
    show_level(prompt, db)
    assert "ops bar" in bar()
    show_level(prompt, root)
    assert "ops bar" not in bar()


@pytest.mark.parametrize("start", ["ops", "db"])
async def test_a_menu_opened_at_a_mounted_app_goes_back_up_to_the_root(start: str,
                                                                       capsys) -> None:
    calls: list[str] = []
    _, ops, db = make_tree(calls)
    app = {"ops": ops, "db": db}[start]

    assert await type_into(app, "b\r" * (2 if start == "db" else 1) + "r\rx\r") == 0

    assert calls == ["R"]
    assert "[B] Back" in capsys.readouterr().err
