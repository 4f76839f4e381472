"""Postal-code rules of the Amazon reference normaliser, per country.

* US and every country without its own rule: ASCII digits only, the first 5 (``75236-9599`` → ``75236``);
  fewer than 5 is invalid. (So 4-digit codes such as NL/AT/CH are dropped — the reference does the same.)
* JP: digits, first 7. IN: digits, first 6 — any Unicode decimal digit counts, as in the reference.
* CA: letters and digits, first 6, must read ``A1A1A1``. GB: letters and digits, first 7, must fit the UK
  outward+inward pattern. Case is *not* changed for CA/GB (``SW1A 1AA`` → ``SW1A1AA``), as in the reference.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_NOT_ASCII_DIGIT = re.compile("[^0-9]+")
_NOT_DIGIT = re.compile(r"\D+")
_NOT_ALNUM = re.compile("[^0-9A-Za-z]+")
_CA = re.compile(r"(?:[A-Za-z][0-9]){3}")
_GB = re.compile(r"(?:[A-Za-z]{1,2}[0-9]{2,3}|[A-Za-z]{1,2}[0-9][A-Za-z][0-9])[A-Za-z]{2}")


def _digits(length: int, junk: re.Pattern[str]) -> Callable[[str], str | None]:
    def rule(value: str) -> str | None:
        digits = value if value.isdigit() and value.isascii() else junk.sub("", value)
        return digits[:length] if len(digits) >= length else None

    return rule


def _pattern(length: int, shape: re.Pattern[str]) -> Callable[[str], str | None]:
    def rule(value: str) -> str | None:
        code = (value if value.isalnum() and value.isascii() else _NOT_ALNUM.sub("", value))[:length]
        return code if shape.fullmatch(code) else None

    return rule


_RULES: dict[str, Callable[[str], str | None]] = {
    "CA": _pattern(6, _CA),
    "GB": _pattern(7, _GB),
    "IN": _digits(6, _NOT_DIGIT),
    "JP": _digits(7, _NOT_ASCII_DIGIT),
}
_DEFAULT = _digits(5, _NOT_ASCII_DIGIT)


def postal_rule(country: str) -> Callable[[str], str | None]:
    """The postal rule for a canonical country code."""
    return _RULES.get(country, _DEFAULT)
