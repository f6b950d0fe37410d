"""The menu's bottom bar as plain data: static text, counters and Ctrl-key toggles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BottomBar", "Toggle"]

# Ctrl-C, Ctrl-D and Ctrl-Z keep their terminal meaning; terminals send Ctrl-H as Backspace,
# Ctrl-I as Tab and Ctrl-J/Ctrl-M as Enter, so those can never reach a toggle.
RESERVED_KEYS = frozenset("cdzhijm")


@dataclass(slots=True, eq=False)
class Toggle:
    """An on/off switch flipped by Ctrl+`key`; actions read `.value`."""

    key: str
    label: str
    value: bool = False
    on_change: Callable[[bool], Any] | None = None

    def flip(self) -> bool:
        self.value = not self.value
        if self.on_change is not None:
            self.on_change(self.value)
        return self.value

    def __bool__(self) -> bool:
        return self.value


@dataclass(slots=True)
class BottomBar:
    """Items shown, in order, in the menu's bottom toolbar."""

    items: dict[str, tuple[str, Any]] = field(default_factory=dict)
    toggles: dict[str, Toggle] = field(default_factory=dict)

    def add_static(self, name: str, text: str | Callable[[], str]) -> None:
        """A fixed text, or a callable giving the text each time the bar is drawn."""
        self._add(name, ("static", text))

    def add_counter(self, name: str, label: str | Callable[[], Any], getter: Any = None) -> None:
        """`label: <getter()>`; `add_counter(name, getter)` uses the name as the label."""
        if getter is None:
            label, getter = name, label
        if not callable(getter):
            raise TypeError(f"counter '{name}' needs a callable getter, got {getter!r}")
        self._add(name, ("counter", (label, getter)))

    def add_toggle(
        self,
        key: str,
        label: str,
        default: bool = False,
        on_change: Callable[[bool], Any] | None = None,
    ) -> Toggle:
        """A switch bound to Ctrl+`key`; returns it so actions can read `.value`."""
        key = key.lower()
        if len(key) != 1 or not key.isalpha():
            raise ValueError(f"toggle key must be one letter, got {key!r}")
        if key in RESERVED_KEYS:
            raise ValueError(f"toggle key {key!r} is reserved: Ctrl+{key.upper()} belongs to the "
                             f"terminal (reserved: {', '.join(sorted(RESERVED_KEYS))})")
        if key in self.toggles:
            raise ValueError(f"toggle key {key!r} is already bound to '{self.toggles[key].label}'")
        toggle = Toggle(key, label, bool(default), on_change)
        self.toggles[key] = toggle
        self._add(f"toggle:{key}", ("toggle", toggle))
        return toggle

    def _add(self, name: str, item: tuple[str, Any]) -> None:
        if name in self.items:
            raise ValueError(f"bottom bar already has an item named {name!r}")
        self.items[name] = item

    def render_parts(self) -> list[tuple[str, str]]:
        """(kind, text) pairs: what the bar shows right now."""
        parts = []
        for kind, value in self.items.values():
            if kind == "static":
                parts.append((kind, str(value() if callable(value) else value)))
            elif kind == "counter":
                label, getter = value
                parts.append((kind, f"{label() if callable(label) else label}: {getter()}"))
            else:
                state = "ON" if value.value else "OFF"
                parts.append((f"toggle-{state.lower()}",
                              f"^{value.key.upper()} {value.label}: {state}"))
        return parts
