"""Seconds as people read them: `60s`, `1.5s`, `0.201s` (DESIGN §2.1 previews, §2.8 tables).

One function for every duration and timeout falyx shows, whether it came from Python (`60`)
or from a config file (`60.0`). Standard library only.
"""

from __future__ import annotations

__all__ = ["format_seconds"]


def format_seconds(seconds: float, digits: int = 3) -> str:
    """`seconds` rounded to `digits` decimals, without trailing zeros, with an `s`:
    `60` and `60.0` -> `60s`, `1.5` -> `1.5s`, `0.2014` -> `0.201s`, `90061.5` -> `90061.5s`;
    a positive duration that rounds to zero says so (`0.0002` -> `<0.001s`), never `0s`.
    Used by the engine's messages (timeouts, waits) and every table and preview.

    Raises:
        ValueError: `digits` is negative.
    """
    if digits < 0:
        raise ValueError(f"digits must be >= 0, got {digits}")
    text = f"{seconds:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("0", "-0"):
        return f"<{10.0 ** -digits:.{digits}f}s" if seconds > 0 else "0s"
    return text + "s"
