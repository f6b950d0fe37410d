"""The config file format (DESIGN §2.13) as msgspec structs, and its JSON Schema.

msgspec does the type checking (`msgspec.convert`); these classes only declare the shape.
`__post_init__` adds the rules a type cannot say (exactly one body, options that apply to
one kind of body). The same structs produce the JSON Schema that `falyx schema` prints.
"""

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union

from msgspec import Meta, Struct

from falyx import naming

__all__ = [
    "BODIES",
    "CommandSpec",
    "ConfigFile",
    "RetrySpec",
    "StepBody",
    "StepSpec",
    "SubmenuSpec",
    "is_cli_name",
    "is_key",
    "json_schema",
]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
BODIES = ("action", "run", "shell", "process", "chain", "group")
#: Options that make sense for one kind of body only.
APPLIES_TO = {
    "args": ("action", "process"), "kwargs": ("action", "process"),
    "params": ("run", "shell"), "cwd": ("run", "shell"), "env": ("run", "shell"),
    "executor": ("process",), "auto_inject": ("chain",), "return_list": ("chain",),
    "fail_fast": ("group",),
}
_WORD = re.compile(r"^\S+$")

NonNegative = Annotated[float, Meta(ge=0)]
Positive = Annotated[float, Meta(gt=0)]
Ref = Annotated[str, Meta(description="An import ref: 'pkg.mod:func' (or 'pkg.mod.func').")]
HookName = Literal["before", "on_success", "on_error", "after", "on_teardown",
                   "success", "error", "teardown"]
EnvValue = Union[str, int, float]


class RetrySpec(Struct, forbid_unknown_fields=True, kw_only=True):
    """`RetryPolicy` fields (DESIGN §2.3); `retry_on` lists exception classes by ref."""

    max_retries: Annotated[int, Meta(ge=0)] = 3
    delay: NonNegative = 1.0
    backoff: NonNegative = 2.0
    jitter: NonNegative = 0.0
    max_delay: NonNegative | None = None
    retry_on: list[Annotated[str, Meta(description=(
        "An exception class: a builtin name (ConnectionError), a falyx error "
        "(ShellCommandError, StepTimeoutError, ...) or 'pkg.mod:Error'."))]] | None = None


Retry = Annotated[
    Union[bool, Annotated[int, Meta(ge=0)], RetrySpec],
    Meta(description="true (the default policy), the number of retries, or policy fields."),
]


class StepBody(Struct, forbid_unknown_fields=True, kw_only=True):
    """What a step runs (exactly one body) and the options every step takes."""

    action: Ref | None = None
    run: Annotated[Union[str, list[str]], Meta(
        description="A program and its arguments (argv list, or a string split like a "
                    "shell would); no shell is involved.")] | None = None
    shell: Annotated[str, Meta(description="A command line run by /bin/sh -c.")] | None = None
    process: Annotated[Ref, Meta(
        description="An import ref run in another process (a ProcessAction).")] | None = None
    chain: "list[Step] | None" = None  # whole, so Python 3.10 resolves Step inside list[]
    group: "list[Step] | None" = None
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None
    params: Annotated[dict[str, Any], Meta(
        description="Placeholders of a run/shell step with their defaults ('...' = required); "
                    "they become command-line options.")] | None = None
    cwd: str | None = None
    env: dict[str, EnvValue] | None = None
    executor: Annotated[str, Meta(
        description="process, process:N, thread, thread:N, dask, dask:N or dask://HOST:PORT."
    )] | None = None
    auto_inject: bool | None = None
    return_list: bool | None = None
    fail_fast: bool | None = None
    retry: Retry | None = None
    timeout: Positive | None = None
    rollback: "Step | None" = None
    hooks: dict[HookName, Union[Ref, list[Ref]]] | None = None
    inject_last_result: bool | None = None
    inject_into: str | None = None

    def __post_init__(self) -> None:
        problems = self.rules(lambda name: getattr(self, name))
        if problems:  # one line per problem; `field: ...` points at that field
            raise ValueError("\n".join(problems))

    @classmethod
    def rules(cls, get: Callable[[str], Any]) -> list[str]:
        """What types cannot say: exactly one body, options for that body, naming.

        `get(field)` gives a field's value or None; the rules also run on raw data when
        other fields of the step are invalid, so every problem is reported at once.
        """
        bodies = [name for name in BODIES if get(name) is not None]
        problems = []
        if not bodies:
            problems.append(f"needs one body: {', '.join(BODIES)}")
        elif len(bodies) > 1:
            problems.append(f"has {len(bodies)} bodies ({', '.join(bodies)}); keep exactly one")
        else:
            for option, kinds in APPLIES_TO.items():
                if get(option) is not None and bodies[0] not in kinds:
                    problems.append(f"{option}: applies to {' or '.join(kinds)} steps only, "
                                    f"not to {bodies[0]}")
        return problems

    def bodies(self) -> list[str]:
        """The body fields that are set (exactly one in a valid step)."""
        return [name for name in BODIES if getattr(self, name) is not None]

    @property
    def body(self) -> str:
        return self.bodies()[0]


class StepSpec(StepBody, kw_only=True):
    """A step written as a mapping: one body plus step options."""

    name: str | None = None


#: A step: a command key of the same file, an import ref, or a mapping.
Step = Union[
    Annotated[str, Meta(description="A command key of this file, or an import ref.")], StepSpec]


class CommandSpec(StepBody, kw_only=True):
    """A command: key, description, the options of DESIGN §2.5, and one body."""

    key: Annotated[str, Meta(description="Menu key, e.g. R (any case).")]
    description: str
    name: Annotated[str, Meta(
        description="CLI subcommand (default: the description's first word).")] | None = None
    aliases: list[str] | None = None
    tags: list[str] | None = None
    hidden: bool | None = None
    help_text: str | None = None
    style: str | None = None
    confirm: bool | None = None
    confirm_message: str | None = None
    preview_before_confirm: bool | None = None
    spinner: bool | None = None
    retry_all: bool | None = None
    record_result: bool | None = None

    @classmethod
    def rules(cls, get: Callable[[str], Any]) -> list[str]:
        return [*super().rules(get), *_naming_problems(get("key"), get("name"), get("aliases"))]


class SubmenuSpec(Struct, forbid_unknown_fields=True, kw_only=True):
    """Another app mounted under a key: a config file, or a Python `Falyx` by ref."""

    key: str
    description: str
    config: Annotated[str, Meta(
        description="Another config file, relative to this one.")] | None = None
    app: Annotated[Ref, Meta(description="A Falyx app: 'pkg.mod:app'.")] | None = None
    name: str | None = None
    tags: list[str] | None = None
    style: str | None = None

    def __post_init__(self) -> None:
        problems = self.rules(lambda name: getattr(self, name))
        if problems:
            raise ValueError("\n".join(problems))

    @classmethod
    def rules(cls, get: Callable[[str], Any]) -> list[str]:
        """Exactly one of `config` and `app`; a one-word key."""
        sources = [s for s in ("config", "app") if get(s) is not None]
        problems = _naming_problems(get("key"), get("name"), None)
        if len(sources) != 1:
            problems.insert(0, "needs exactly one of 'config' or 'app'" if not sources else
                            "has both 'config' and 'app'; keep one")
        return problems


def is_key(value: Any) -> bool:
    """Whether `value` is a well-formed key or alias: one word."""
    return isinstance(value, str) and bool(_WORD.match(value))


def is_cli_name(value: Any) -> bool:
    """Whether `value` is a well-formed command-line name: letters, digits, '-', '_'."""
    return naming.is_cli_name(value)


def _naming_problems(key: Any, name: Any, aliases: Any) -> list[str]:
    problems = []
    if isinstance(key, str) and not is_key(key):
        problems.append(f"key: {key!r} must be one word")
    for i, alias in enumerate(aliases if isinstance(aliases, list) else ()):
        if isinstance(alias, str) and not is_key(alias):
            problems.append(f"aliases[{i}]: {alias!r} must be one word")
    if isinstance(name, str) and not is_cli_name(name):
        problems.append(f"name: {name!r} must be letters, digits, '-' or '_'")
    return problems


class ConfigFile(Struct, forbid_unknown_fields=True, kw_only=True):
    """A falyx config file (falyx.yaml, falyx.toml or [tool.falyx] in pyproject.toml)."""

    title: str | None = None
    program: Annotated[str, Meta(
        description="Program name (history file and usage; default 'falyx').")] | None = None
    version: str | None = None
    history: Annotated[Union[str, bool], Meta(
        description="History database path (relative to this file), or off (false)."
    )] | None = None
    pythonpath: Annotated[Union[str, list[str]], Meta(
        description="Folders put on sys.path for import refs (default: this file's folder)."
    )] | None = None
    env: Annotated[dict[str, EnvValue], Meta(
        description="Environment added to every run/shell step.")] | None = None
    commands: list[CommandSpec] = []
    submenus: list[SubmenuSpec] = []


def _one_body(extra: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [{"required": [body]} for body in BODIES], **extra}


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the file format, for editors and validators."""
    import msgspec

    schema = msgspec.json.schema(ConfigFile)
    defs = schema["$defs"]
    for name in ("CommandSpec", "StepSpec"):
        defs[name] = _one_body(defs[name])
    defs["SubmenuSpec"]["oneOf"] = [{"required": ["config"]}, {"required": ["app"]}]
    return {"$schema": SCHEMA_DIALECT, "title": "falyx config", **schema}
