"""Prompts on questionary's async API: they render on stderr and never hang without a tty."""

from __future__ import annotations

import sys

from falyx.errors import ConfirmationRequired

__all__ = ["confirm", "has_terminal"]


def has_terminal() -> bool:
    """True when a person can answer: stdin and stderr are both terminals."""
    return sys.stdin.isatty() and sys.stderr.isatty()


async def confirm(
    message: str, *, default: bool = True, never_prompt: bool = False, hint: str = ""
) -> bool:
    """Ask yes/no; `never_prompt` answers the default; no terminal raises `ConfirmationRequired`.

    Ctrl-C propagates as `KeyboardInterrupt`.
    """
    if never_prompt:
        return default
    if not has_terminal():
        raise ConfirmationRequired(
            f"{hint or 'this command'} needs confirmation but there is no terminal to ask on; "
            "pass -y (--skip-confirm) to run it, or -n (--never-prompt) to accept defaults"
        )
    import questionary
    from prompt_toolkit.output import create_output

    question = questionary.confirm(
        message, default=default, qmark="❓", instruction=" [Y/n] " if default else " [y/N] ",
        output=create_output(stdout=sys.stderr),
    )
    return bool(await question.unsafe_ask_async())
