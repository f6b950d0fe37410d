"""Config advice for the engine's messages: the fix in the file, not the Python call.

The engine explains its `ValueError`/`TypeError`s in the terms of its Python API
(`shell=True`, `inject_into=`, `name=`, `Annotated[..., typer.Option(...)]`). A config
user fixes the same mistake with a field of the file (DESIGN §2.13), so the config layer
rewrites those phrases before it reports a problem; the engine's messages stay as they are.
Advice about a Python function's own signature (a hook, a rollback, an `action:` ref) is
kept: that function is Python code the user writes.
"""

from __future__ import annotations

import re
from collections.abc import Collection

__all__ = ["config_advice"]

#: (pattern, replacement) pairs, applied in order; each names one engine phrase.
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement) for pattern, replacement in (
        # `run: ["sh", "-c", "... {v} ..."]`
        (r"pass the script with shell=True, which quotes every value",
         "write the script as a 'shell:' body instead, which quotes every value"),
        # a non-string script with shell=True (the schema keeps `shell:` a string)
        (r"shell=True runs one string through /bin/sh -c, got (.*); pass the argv list "
         r"without shell=True",
         r"'shell:' runs one string through /bin/sh -c, got \1; write an argv list as a "
         r"'run:' body"),
        (r"set inject_into= to", "set 'inject_into' to"),
        (r"pass name= to choose another", "set 'name' to choose another"),
    )
)
#: A command parameter that takes a falyx option (falyx.signature.check_cli_parameters).
_OPTION_CLASH = re.compile(
    r"parameter '(\w+)' would take the option (\S+), which falyx keeps for itself; rename the "
    r"parameter or give it other option names with Annotated\[\.\.\., typer\.Option\('--other'\)\]")


def config_advice(message: str, placeholders: Collection[str] = ()) -> str:
    """`message` with its Python advice replaced by the config field that fixes it.

    `placeholders`: the `{name}` placeholders of the run/shell steps the message is about;
    a parameter that is one of them is renamed in the file, not with `typer.Option`.
    """
    for pattern, replacement in _REWRITES:
        message = pattern.sub(replacement, message)
    clash = _OPTION_CLASH.search(message)
    if clash and clash.group(1) in placeholders:
        name = clash.group(1)
        message = message.replace(clash.group(0), (
            f"placeholder {{{name}}} would take the option {clash.group(2)}, which falyx keeps "
            f"for itself; rename the placeholder (and its 'params' entry)"))
    return message
