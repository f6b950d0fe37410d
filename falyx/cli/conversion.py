"""falyx's own options converted without pydantic on Typer 0.29 (DESIGN §1, lazy imports).

Typer 0.29 converts every non-bool parameter with a pydantic `TypeAdapter`, built on the
parameter's first use; importing pydantic costs ~140 ms, more than the rest of a no-op run.
Typer documents no switch for this (checked up to 0.29.2: `click_type=` is gone and `parser=`
goes through a `TypeAdapter` too). falyx's own options — the global options, the run options
and the built-ins' options — are plain strings, ints and floats (with `min`) and enums, so
falyx gives Typer their conversion, with the wording Typer 0.28 (Click's types) uses:
`'x' is not a valid int range.`. Typer's own `--help` and completion flags are bool options
whose value is None when not given, which Typer 0.29 converts with pydantic too (a bare Typer
app imports pydantic on every command run): falyx's commands convert them the same way.
A user's parameters keep Typer's own conversion, exactly as in a bare Typer app.

The hand-over goes through Typer's private per-parameter slot (`_runtime_param`, read by
`get_runtime_param()`), filled just before a command parses (`OwnOptions.parse_args`, a
public Click method); where Typer has no such slot (0.28, or a later change) nothing is set
and Typer converts as usual, only slower. The import-absence tests run against the highest
and the lowest Typer allowed.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any, ClassVar

import typer

__all__ = ["OwnConversion", "OwnOptions", "convert_own_options"]

_SLOT = "_runtime_param"


class OwnConversion:
    """Converts one option's value as Click's `BOOL`, `STRING`, `IntRange`, `FloatRange` or
    `Choice` of an enum would; the object Typer 0.29 calls as `.coerce(value, param=, ctx=)`."""

    def __init__(self, kind: type, minimum: float | None = None,
                 maximum: float | None = None, case_sensitive: bool = True) -> None:
        self.kind, self.minimum, self.maximum = kind, minimum, maximum
        self.case_sensitive = case_sensitive

    @classmethod
    def for_annotation(cls, annotation: Any, param: Any) -> OwnConversion | None:
        """The conversion of a str, int, float or enum option; None for other types."""
        if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            return cls(annotation, case_sensitive=param.type_descriptor.case_sensitive)
        if annotation in (bool, str, int, float):
            return cls(annotation, getattr(param, "min", None), getattr(param, "max", None))
        return None

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        """The converted value (None stays None).

        Raises:
            typer.BadParameter: Click's message for a value of the wrong type or range.
        """
        if value is None:
            return None
        try:
            return self._convert(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), ctx=ctx, param=param) from None

    def _convert(self, value: Any) -> Any:
        kind = self.kind
        if issubclass(kind, enum.Enum):
            return self._member(value)
        if kind is bool:  # falyx's flags take no value from the environment: bools only
            if isinstance(value, bool):
                return value
            raise ValueError(f"{value!r} is not a valid boolean.")
        if kind is str:
            return value if isinstance(value, str) else str(value)
        try:
            number = kind(value)
        except (TypeError, ValueError):
            name = kind.__name__ + (" range" if self._ranged else "")
            raise ValueError(f"{value!r} is not a valid {name}.") from None
        low, high = self.minimum, self.maximum
        if (low is not None and number < low) or (high is not None and number > high):
            raise ValueError(f"{number} is not in the range {self._describe_range()}.")
        return number

    def _member(self, value: Any) -> enum.Enum:
        members: list[enum.Enum] = list(self.kind)  # type: ignore[arg-type]
        if isinstance(value, self.kind):
            return value
        wanted = str(value) if self.case_sensitive else str(value).casefold()
        for member in members:
            text = str(member.value)
            if (text if self.case_sensitive else text.casefold()) == wanted:
                return member
        choices = ", ".join(repr(str(m.value)) for m in members)
        raise ValueError(f"{value!r} is not one of {choices}.")

    @property
    def _ranged(self) -> bool:
        return self.minimum is not None or self.maximum is not None

    def _describe_range(self) -> str:
        if self.maximum is None:
            return f"x>={self.minimum}"
        if self.minimum is None:
            return f"x<={self.maximum}"
        return f"{self.minimum}<=x<={self.maximum}"


def convert_own_options(params: Iterable[Any], names: Iterable[str] | None = None) -> None:
    """Give Typer 0.29 falyx's conversion for these parameters (those in `names`, else all).

    A parameter that is not a single-valued bool, str, int, float or enum option or argument,
    or one of a Typer without the slot (0.28, or a later change), is left to Typer.
    """
    wanted = None if names is None else set(names)
    for param in params:
        if wanted is not None and param.name not in wanted:
            continue
        descriptor = getattr(param, "type_descriptor", None)
        if (getattr(param, _SLOT, False) is not None or descriptor is None
                or param.multiple or param.nargs != 1):
            continue
        conversion = OwnConversion.for_annotation(descriptor.annotation, param)
        if conversion is not None:
            setattr(param, _SLOT, conversion)


class OwnOptions:
    """Mixin for Typer's command and group classes: before parsing, the options named in
    `own_options` (all when None; Typer's `--help` and completion flags included) get
    falyx's conversion."""

    own_options: ClassVar[frozenset[str] | None] = None

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        convert_own_options(self.get_params(ctx), self.own_options)  # type: ignore[attr-defined]
        return super().parse_args(ctx, args)  # type: ignore[misc]
