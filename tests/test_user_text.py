"""User text is text: titles, descriptions, docstrings and help are shown as written."""

from __future__ import annotations

import asyncio
import io
import sys
from typing import Annotated

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st
from rich.markup import escape
from rich.text import Text

from falyx import Falyx, chain
from falyx.cli.options import literal
from falyx.menu import handle_entry
from falyx.runner import RunRequest, Session, execute
from falyx.testing import run_cli

TITLE = "Tools [beta] for owner[/name]"
DESCRIPTION = "Upload to owner[/name]"
DOC = "Upload to owner[/name].\n\nReads [tool.uploader] from pyproject; [bold]not bold[/bold]."
OPTION_HELP = "Bucket, e.g. [s3://x] or [/]"


def markup_app() -> Falyx:
    app = Falyx(TITLE, program="tools")

    def upload(bucket: Annotated[str, typer.Option(help=OPTION_HELP)] = "b") -> str:
        print(f"uploaded to {bucket}")
        return "[red]done[/red]"

    upload.__doc__ = DOC
    app.command(key="U", description=DESCRIPTION)(upload)
    app.add_command("C", "[ci] checks", chain(upload, name="[ci] pipeline"), name="checks",
                    help_text="Runs [ci] checks. C:\\path\\[x]")
    return app


def flat(text: str) -> str:
    """The text with rich's box drawing and wrapping undone."""
    for box in "│╭╮╰╯─":
        text = text.replace(box, " ")
    return " ".join(text.split())


WIDE = {"COLUMNS": "200", "TERMINAL_WIDTH": "200"}


def test_help_shows_the_title_and_descriptions_as_written() -> None:
    result = run_cli(markup_app(), ["--help"], env=WIDE)

    assert result.exit_code == 0, result.output
    assert TITLE in flat(result.stdout)
    assert DESCRIPTION in flat(result.stdout)  # the command list shows the description
    assert "[ci] checks" in flat(result.stdout)


def test_subcommand_help_shows_docstring_help_text_and_option_help_as_written() -> None:
    upload = run_cli(markup_app(), ["upload", "--help"], env=WIDE)
    checks = run_cli(markup_app(), ["run", "C", "--help"], env=WIDE)

    assert upload.exit_code == 0 and checks.exit_code == 0, upload.output + checks.output
    assert "Upload to owner[/name]." in flat(upload.stdout)
    assert "Reads [tool.uploader] from pyproject; [bold]not bold[/bold]." in flat(upload.stdout)
    assert OPTION_HELP in flat(upload.stdout)
    assert "Runs [ci] checks. C:\\path\\[x]" in flat(checks.stdout)


def test_help_command_preview_and_summary_show_user_text_as_written() -> None:
    app = markup_app()
    listing = run_cli(app, ["help"], env=WIDE)
    preview = run_cli(app, ["preview", "C"], env=WIDE)
    summary = run_cli(app, ["checks", "--summary"], env=WIDE)

    assert TITLE in flat(listing.stderr) and "[U] Upload to owner[/name]" in listing.stderr
    assert "Command: 'C' — [ci] checks" in preview.stderr
    assert "⛓ ChainedAction '[ci] pipeline'" in preview.stderr
    assert summary.exit_code == 0, summary.output
    assert "[ci] pipeline" in summary.stderr and "'[red]done[/red]'" in summary.stderr


class Terminal(io.StringIO):
    """A stderr that says it is a terminal (colours off: NO_COLOR is set by conftest)."""

    def isatty(self) -> bool:
        return True


def test_the_success_line_shows_description_and_result_as_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = markup_app()
    stderr = Terminal()
    monkeypatch.setattr(sys, "stderr", stderr)

    code = asyncio.run(execute(app, RunRequest(app.get("U")), Session()))

    assert code == 0
    assert "✅ U — Upload to owner[/name]: '[red]done[/red]'" in stderr.getvalue()


async def test_menu_table_shows_titles_and_descriptions_as_written(capsys) -> None:
    app = markup_app()
    assert await handle_entry(app, Session(), "h") is None
    err = flat(capsys.readouterr().err)
    assert TITLE in err and "[U] Upload to owner[/name]" in err and "[C] [ci] checks" in err


def test_a_description_that_is_broken_markup_does_not_break_help() -> None:
    app = Falyx("[/] [bold", program="t")
    app.add_command("B", "[/] closes nothing [", lambda: None, name="broken")

    for argv in (["--help"], ["broken", "--help"], ["help"]):
        result = run_cli(app, argv, env=WIDE)
        assert result.exit_code == 0, result.output
        assert "[/] closes nothing [" in result.output
        assert "Traceback" not in result.output


@given(st.text(alphabet="[]/\\ab #@=", max_size=30))
def test_literal_text_renders_back_to_itself(text: str) -> None:
    assert Text.from_markup(literal(text)).plain == text


@given(st.text(alphabet="[]/ab #@=", max_size=30))
def test_literal_escapes_tags_as_rich_does(text: str) -> None:
    assert literal(text) == escape(text)  # no backslashes: exactly rich's escape
