"""UK/EEA consent: optional row columns become the record's ``userConsent`` block (docs/amc-audiences-api.md#consent).

Columns (case-insensitive): ``amznadstorage`` and ``amznuserdata`` (Amazon's consent signals, GRANTED or
DENIED, also true/false/yes/no/1/0), ``tcf`` (IAB TCF v2 TC string) and ``gpp`` (IAB GPP string). A value
that is none of these is refused, so the row is skipped rather than sent as if it were consent;
:mod:`.consent_strings` says what makes a TCF or GPP string well-formed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adsbridge.export.consent_strings import is_gpp_string, is_tcf_string

CONSENT_VALUES = frozenset({"DENIED", "GRANTED", "NOT_APPLICABLE", "UNKNOWN"})
_SYNONYMS = {"TRUE": "GRANTED", "YES": "GRANTED", "Y": "GRANTED", "1": "GRANTED",
             "FALSE": "DENIED", "NO": "DENIED", "N": "DENIED", "0": "DENIED"}  # fmt: skip
AMZN_COLUMNS = {"amznadstorage": "amznAdStorage", "amznuserdata": "amznUserData"}
STRING_COLUMNS = {"tcf": is_tcf_string, "gpp": is_gpp_string}


class InvalidConsent(ValueError):
    """A consent column holds a value that is not a consent signal."""


def consent_block(row: Mapping[str, str], country: str) -> dict[str, Any] | None:
    """The ``userConsent`` object for ``row``, or None when the row carries no consent signal at all."""
    consent: dict[str, Any] = {}
    amzn = {}
    for column, key in AMZN_COLUMNS.items():
        raw = (row.get(column) or "").strip().upper()
        if raw:
            value = _SYNONYMS.get(raw, raw)
            if value not in CONSENT_VALUES:
                raise InvalidConsent(column)
            amzn[key] = value
    if amzn:
        consent["amzn"] = amzn
    for column, well_formed in STRING_COLUMNS.items():
        value = (row.get(column) or "").strip()
        if value:
            if not well_formed(value):
                raise InvalidConsent(column)
            consent[column] = value
    if not consent:
        return None
    return {"geo": {"countryCode": country}, "consent": consent}
