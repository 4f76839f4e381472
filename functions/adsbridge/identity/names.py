"""Name and city rules of the Amazon reference normaliser.

Names: lower-case, transliterate only ``ß ä ö ü ø æ`` (to ``ss ae oe ue o ae``), then keep ``[a-z0-9]``;
every other accented letter, apostrophe, hyphen and space disappears (``José`` → ``jos``,
``Müller`` → ``mueller``). City: lower-case and keep ``[a-z0-9]`` with *no* transliteration
(``München`` → ``mnchen``). Both look odd, but they are what the reference hashes, and matching its hashes
is the point. Neither rule depends on the country.
"""

from __future__ import annotations

import re

_TRANSLITERATE = str.maketrans({"ß": "ss", "ä": "ae", "ö": "oe", "ü": "ue", "ø": "o", "æ": "ae"})
_NOT_ALNUM = re.compile("[^a-z0-9]+")


def normalize_name(value: str) -> str | None:
    """Normalised first or last name, or None when nothing is left."""
    text = value.lower()
    if not (text.isascii() and text.isalnum()):  # fast path: plain ASCII letters/digits need no work
        text = _NOT_ALNUM.sub("", text.translate(_TRANSLITERATE))
    return text or None


def normalize_city(value: str) -> str | None:
    """Normalised city, or None when nothing is left."""
    text = value.lower()
    if not (text.isascii() and text.isalnum()):
        text = _NOT_ALNUM.sub("", text)
    return text or None
