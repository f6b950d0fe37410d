"""Command-line names derived from text: a step's name, a submenu's description, a config
command's description (DESIGN §2.5, §2.12, §2.13). Standard library only.

A word is a run of letters and digits of any script, with their combining marks (`grüße`,
`κατάσταση`, `部署`); the name keeps them, lower-cased, as Click accepts any Unicode name.
Emoji and other pictographs are dropped: they are no part of a name one can type.
"""

from __future__ import annotations

import unicodedata

__all__ = ["cli_name_from", "is_cli_name", "name_words"]

_LETTER, _MARK, _SEPARATOR, _PICTURE, _OTHER = range(5)
#: Parts of emoji that are not letters: skin tones (Sk), ZWJ (Cf), keycaps (Me), variation
#: selectors (Mn, but no part of a word).
_PICTURE_CATEGORIES = {"So", "Sk", "Cf", "Me"}


def _kind(char: str) -> int:
    if char.isspace() or char in "_-":
        return _SEPARATOR
    category = unicodedata.category(char)
    if "\ufe00" <= char <= "\ufe0f" or "\U000e0100" <= char <= "\U000e01ef":
        return _PICTURE  # variation selectors: text or emoji presentation
    if category[0] in "LN":
        return _LETTER
    if category[0] == "M":
        return _MARK
    if not char.isascii() and category in _PICTURE_CATEGORIES:
        return _PICTURE
    return _OTHER


def _scan(text: str) -> tuple[list[str], bool]:
    """The words of `text` (lower case), and whether it held anything but words, separators
    (space, `_`, `-`) and pictographs."""
    words: list[str] = []
    word: list[str] = []
    other = False
    for char in unicodedata.normalize("NFC", text).lower():
        kind = _kind(char)
        if kind == _LETTER or (kind == _MARK and word):
            word.append(char)
            continue
        other = other or kind == _OTHER
        if word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    return words, other


def name_words(text: str) -> list[str]:
    """The words of `text` in lower case; every other character separates them
    (`"Ümlaut cmd!"` -> `["ümlaut", "cmd"]`, `"🚀 Deploy"` -> `["deploy"]`)."""
    return _scan(text)[0]


def cli_name_from(text: str) -> str | None:
    """`text` as a command-line name: its words joined with `-` (`"build_image"` ->
    `"build-image"`, `"Ümlaut cmd"` -> `"ümlaut-cmd"`, `"🚀 Deploy tools"` ->
    `"deploy-tools"`).

    None when `text` has no word, or holds punctuation or symbols other than `_`, `-` and
    emoji (`"<lambda>"`, `"a -> b"` make poor names: the caller falls back to the key).
    """
    words, other = _scan(text)
    return "-".join(words) if words and not other else None


def is_cli_name(value: object) -> bool:
    """Whether `value` is a well-formed command-line name: a letter or digit (any script), then
    letters, digits, their marks, `-` and `_`."""
    if not isinstance(value, str) or not value:
        return False
    kinds = [_kind(char) for char in value]
    return kinds[0] == _LETTER and all(kind in (_LETTER, _MARK) or char in "_-"
                                       for char, kind in zip(value, kinds, strict=True))
