"""Input row → AMC audience record (JSON bytes), or the reason it was skipped.

A record is built only from normalised, SHA-256-hashed identifiers; a row that cannot make a valid record
is skipped with one of ``SKIP_REASONS`` and never uploaded. Reasons are codes, never row contents.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from adsbridge.export.consent import InvalidConsent, consent_block
from adsbridge.identity import PII_FIELDS, hash_pii
from adsbridge.identity.countries import UK_EEA, normalize_country
from adsbridge.settings import ExportSettings

EXTERNAL_USER_ID = re.compile(r"^[0-9a-zA-Z_-]{1,128}$")
SKIP_REASONS = (
    "malformed_row",
    "missing_external_user_id",
    "invalid_external_user_id",
    "invalid_country_code",
    "no_usable_identifier",
    "invalid_consent",
    "uk_eea_without_consent",
)


class Skip(str):
    """A skip reason (one of SKIP_REASONS); a distinct type so callers can tell it from a record."""

    __slots__ = ()


_SKIPS = {reason: Skip(reason) for reason in SKIP_REASONS}


class RecordBuilder:
    """Builds records for one export job; the settings decide action, default country and consent policy."""

    def __init__(self, settings: ExportSettings) -> None:
        self.action = settings.record_action
        self.default_country = settings.country_code
        self.require_consent = settings.require_consent_for_uk_eea

    def build(self, row: Mapping[str, str]) -> bytes | Skip:
        external_id = (row.get("externaluserid") or "").strip()
        if not external_id:
            return _SKIPS["missing_external_user_id"]
        if not EXTERNAL_USER_ID.match(external_id):
            return _SKIPS["invalid_external_user_id"]
        raw_country = (row.get("countrycode") or "").strip()
        country = normalize_country(raw_country) if raw_country else self.default_country
        if country is None:
            return _SKIPS["invalid_country_code"]
        hashed = hash_pii({field: row.get(field) for field in PII_FIELDS}, country)
        if not hashed:
            return _SKIPS["no_usable_identifier"]
        try:
            consent = consent_block(row, country)
        except InvalidConsent:
            return _SKIPS["invalid_consent"]
        if consent is None and country in UK_EEA and self.require_consent:
            return _SKIPS["uk_eea_without_consent"]
        record: dict[str, object] = {
            "externalUserId": external_id,
            "countryCode": country,
            "action": self.action,
            "hashedPII": [hashed],
        }
        if consent is not None:
            record["userConsent"] = consent
        elif country in UK_EEA:
            record["userConsent"] = {"geo": {"countryCode": country}}
        return json.dumps(record, separators=(",", ":")).encode()
