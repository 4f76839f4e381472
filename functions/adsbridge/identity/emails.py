"""Email rule of the Amazon reference normaliser.

Lower-case, then delete every character that is not a word character (Unicode ``\\w``), ``.``, ``@`` or ``-``:
``John.Doe+Tag@Example.COM`` becomes ``john.doetag@example.com`` (the ``+`` goes, the tag stays; Gmail dots
stay). The result is valid when it starts with at least one non-``@`` character followed by ``@`` and one more
non-``@`` character — exactly what the reference's unanchored ``[\\w._-]+@[\\w._-]+`` match accepts once the
junk is gone.
"""

from __future__ import annotations

import re

_JUNK = re.compile(r"[^\w.@-]+")
_CLEAN_ASCII = "abcdefghijklmnopqrstuvwxyz0123456789_.@-"


def normalize_email(value: str) -> str | None:
    """Normalised email, or None when nothing usable remains."""
    text = value.lower()
    if not (text.isascii() and not text.strip(_CLEAN_ASCII)):  # fast path: already clean ASCII
        text = _JUNK.sub("", text)
    at = text.find("@")
    if at > 0 and at + 1 < len(text) and text[at + 1] != "@":
        return text
    return None
