"""The command of a shell step: an argv template with `{name}` placeholders (DESIGN §2.11).

A placeholder is `{name}` with `name` a Python identifier; `{{name}}` writes a literal
`{name}`; every other brace (`find -exec rm {} +`, `awk '{print $1}'`, JSON) and `${NAME}`
(shell parameter expansion) is kept as written. Each value fills one argv item, or, with
`shell=True`, is `shlex.quote`d into the script: a value can never add arguments or syntax.
So that quoting holds, a shell script's placeholders must stand outside quotes, escapes and
here-documents (`echo {msg}`, not `echo '{msg}'`); anything else is refused at definition.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from falyx.errors import InvalidActionError, UsageError

__all__ = ["SHELL", "CommandTemplate", "quoted_command", "shell_words"]

#: The shell of `shell=True`: `/bin/sh -c SCRIPT`.
SHELL = ("/bin/sh", "-c")
_PLACES = {"'": "inside single quotes", '"': "inside double quotes", "\\": "after a backslash"}
_SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "ash"}
_COMMAND_FLAG = re.compile(r"^-[A-Za-z]*c[A-Za-z]*$")  # -c, -ec, -euxc ...
_DOUBLE_QUOTE_SPECIAL = re.compile(r'[$`"\\]')  # what needs a backslash in double quotes
_TOKEN = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}|(?<!\$)\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class CommandTemplate:
    """argv items (or one shell script) with placeholders, and the text a preview shows."""

    items: tuple[str, ...]
    shell: bool
    source: str
    placeholders: tuple[str, ...]
    static: bool  # no placeholder and no `{{name}}`: the items are the argv as they are

    @classmethod
    def parse(cls, step: str, command: str | Sequence[Any], shell: bool) -> CommandTemplate:
        """Check and split `command`; raises `InvalidActionError` naming the step."""
        items, source = _split(step, command, shell)
        if not source or not items:
            raise InvalidActionError(f"step '{step}': the command is empty; give a program to run")
        if any("\0" in item for item in items):
            raise InvalidActionError(f"step '{step}': the command contains a NUL character")
        if shell:
            _check_unquoted(step, items[0])
        else:
            _check_no_inline_script(step, items)
        tokens = [m for item in items for m in _TOKEN.finditer(item)]
        found = dict.fromkeys(m.group(2) for m in tokens if m.group(2))
        return cls(items, shell, source, tuple(found), static=not tokens)

    def fill(self, step: str, values: Mapping[str, Any]) -> tuple[list[str], str]:
        """The argv to run and its one-line display, placeholders filled from `values`.

        Raises `UsageError` (exit 2) naming a placeholder that has no value (absent or None)
        or whose value holds a NUL character.
        """
        filled = list(self.items) if self.static else self._filled(step, values)
        if self.shell:
            return [*SHELL, filled[0]], filled[0]
        return filled, shell_words(filled)

    def _filled(self, step: str, values: Mapping[str, Any]) -> list[str]:
        strings = {name: _value(step, name, values) for name in self.placeholders}
        quote = shlex.quote if self.shell else str

        def replace(match: re.Match[str]) -> str:
            literal, name = match.groups()
            return "{" + literal + "}" if literal else quote(strings[name])

        return [_TOKEN.sub(replace, item) for item in self.items]


def _split(step: str, command: Any, shell: bool) -> tuple[tuple[str, ...], str]:
    """The argv items (one script with `shell`) and the text a preview shows."""
    if shell:
        if not isinstance(command, str):
            raise InvalidActionError(
                f"step '{step}': shell=True runs one string through /bin/sh -c, got "
                f"{type(command).__name__} {command!r}; pass the argv list without shell=True")
        return (command,), command.strip()
    if isinstance(command, str):
        try:
            return tuple(shlex.split(command)), command.strip()
        except ValueError as exc:
            raise InvalidActionError(
                f"step '{step}': cannot split command {command!r}: {exc}") from exc
    if isinstance(command, Sequence) and not isinstance(command, (bytes, bytearray)):
        items = tuple(_argv_item(step, item) for item in command)
        return items, " ".join(_shell_word(item, _TOKEN.sub("x", item)) for item in items)
    raise InvalidActionError(
        f"step '{step}': command must be an argv list or a string, got {command!r}")


def _check_unquoted(step: str, script: str) -> None:
    """Refuse a placeholder inside quotes, after a backslash or in a here-document.

    There a quoted value would not be one plain word: `'{v}'` with `v = "a'; id; '"` would
    close the user's quotes. Tracks POSIX sh quoting (single, double, backslash).
    """
    state, escaped, heredoc = "", False, -1
    context = []  # the quoting state before each character
    for i, ch in enumerate(script):
        context.append("\\" if escaped else state)
        if escaped:
            escaped = False
        elif state == "'":
            state = "" if ch == "'" else state
        elif ch == "\\":
            escaped = True
        elif state == '"':
            state = "" if ch == '"' else state
        elif ch in "'\"":
            state = ch
        elif ch == "<" and script.startswith("<<", i) and heredoc < 0:
            heredoc = i
    for match in _TOKEN.finditer(script):
        if not match.group(2):
            continue
        where = context[match.start()]
        if where or 0 <= heredoc < match.start():
            place = _PLACES.get(where, "in a here-document")
            raise InvalidActionError(
                f"step '{step}': placeholder {match.group()} is {place}; write it as a bare "
                "word (falyx quotes every value for the shell)")


def _check_no_inline_script(step: str, items: tuple[str, ...]) -> None:
    """Refuse `sh -c '... {v} ...'` without shell=True: the value would be read as code.

    Also behind a wrapper (`sudo sh -c`, `docker exec app bash -lc`, `kubectl exec -- sh -c`).
    Placeholders after the script (`sh -c 'echo "$1"' sh {v}`) are the script's positional
    parameters, which is safe.
    """
    for at, item in enumerate(items):
        if os.path.basename(item) not in _SHELLS:
            continue
        rest = items[at + 1:]
        flag = next((i for i, arg in enumerate(rest) if _COMMAND_FLAG.match(arg)), None)
        script = "" if flag is None else next(
            (arg for arg in rest[flag + 1:] if not arg.startswith("-")), "")
        if any(m.group(2) for m in _TOKEN.finditer(script)):
            raise InvalidActionError(
                f"step '{step}': a placeholder in the script of '{item} -c' would be read as "
                "shell code; pass the script with shell=True, which quotes every value")


def _argv_item(step: str, item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, os.PathLike):
        return os.fsdecode(item)
    if isinstance(item, (int, float)) and not isinstance(item, bool):
        return str(item)
    raise InvalidActionError(
        f"step '{step}': argv items must be strings or paths, got {type(item).__name__} {item!r}")


def shell_words(argv: Sequence[str]) -> str:
    """argv as a shell line that reads easily and that `/bin/sh` reads back as argv: a word
    bare where it can be, else in single quotes, or, when it holds a single quote, in double
    quotes (`python3 -c "print('hi')"`, not `'print('"'"'hi'"'"')'`) if that is shorter."""
    return " ".join(_shell_word(item) for item in argv)


def _shell_word(item: str, plain: str | None = None) -> str:
    """`item` for a shell line; `plain` is what decides whether it may stay bare (the item
    with its placeholders as letters, so `app:{tag}` stays as written)."""
    plain = item if plain is None else plain
    if plain and shlex.quote(plain) == plain:
        return item
    if "'" not in item:
        return f"'{item}'"
    single = shlex.quote(item)  # each ' becomes '"'"'
    if "!" in item:  # history expansion: double quotes cannot keep `!` when pasted into bash
        return single
    double = '"' + _DOUBLE_QUOTE_SPECIAL.sub(r"\\\g<0>", item) + '"'  # \$ \` \" \\
    return double if len(double) <= len(single) else single


def quoted_command(display: str, limit: int = 80) -> str:
    """A command in a message (DESIGN §2.11): one line (`⏎` for a line break), at most
    `limit` characters, cut in the middle so that both ends stay (`sh -c 'for …; exit 4'`).

    It stands between single quotes (`'kubectl apply -f k8s/'`), or between backticks when
    it holds quotes itself (`` `sh -c 'exit 4'` ``): no quotes nest, and the message adds
    no kind of quote the command does not hold (fewer backslashes in a repr of it).
    """
    text = " ⏎ ".join(line.strip() for line in display.splitlines() if line.strip())
    if len(text) > limit:
        head = (limit - 1) * 2 // 3
        text = text[:head].rstrip() + "…" + text[head + 1 - limit:].lstrip()
    quote = "`" if ("'" in text or '"' in text) and "`" not in text else "'"
    return f"{quote}{text}{quote}"


def _value(step: str, name: str, values: Mapping[str, Any]) -> str:
    value = values.get(name)
    if value is None:
        hint = ("it is the previous step's result: run the step in a chain with "
                "auto_inject=True or inject_last_result=True" if name == "last_result" else
                f"pass {name}= (the --{name.replace('_', '-')} option) or give it a default "
                "in params=")
        got = " (got None)" if name in values else ""
        raise UsageError(f"step '{step}': no value for placeholder {{{name}}}{got}; {hint}")
    text = os.fsdecode(value) if isinstance(value, (bytes, os.PathLike)) else str(value)
    if "\0" in text:
        raise UsageError(f"step '{step}': the value for placeholder {{{name}}} contains a NUL "
                         "character, which no program argument can hold")
    return text
