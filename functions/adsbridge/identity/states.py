"""State/region rule of the Amazon reference normaliser.

Upper-case and keep ``A-Z``; a full name known for the country becomes its code (``New York`` → ``ny``);
otherwise, when the *raw* value is longer than two characters, the letters are cut to two. That cut is the
reference's quirk and we keep it: ``Québec`` → ``QUBEC`` (the É is dropped, so no map hit) → ``qu``;
``Île-de-France`` → ``le``. Countries without a name map are only cut.
"""

from __future__ import annotations

import re

from adsbridge.identity.state_names import STATE_NAMES

_NOT_LETTER = re.compile("[^A-Z]+")


class StateRule:
    """The state rule for one country (its name → code map is built once)."""

    __slots__ = ("codes",)

    def __init__(self, country: str) -> None:
        self.codes = {name: code for code, names in STATE_NAMES.get(country, {}).items() for name in names.split()}

    def __call__(self, value: str) -> str | None:
        letters = _NOT_LETTER.sub("", value.upper())
        code = self.codes.get(letters)
        if code is None:
            code = letters[:2] if len(value) > 2 else letters
        return code.lower() or None
