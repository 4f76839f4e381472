"""Row → record: what is sent, what is skipped and why; never a raw value."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from adsbridge.export.records import RecordBuilder, Skip
from adsbridge.settings import parse_settings

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
SETTINGS: dict[str, Any] = {
    "amc_instance_id": "amc1",
    "country_code": "US",
    "external_audience_id": "e",
    "audience_name": "Records under test",
}


def build(row: dict[str, str], **settings: Any) -> dict[str, Any] | str:
    result = RecordBuilder(parse_settings({**SETTINGS, **settings})).build(row)
    return str(result) if isinstance(result, Skip) else json.loads(result)


def test_record_shape_and_hashes() -> None:
    record = build(
        {"externaluserid": "c-1", "email": " Jane.Doe@Example.COM ", "phone": "(206) 555-0143", "city": "Seattle"}
    )
    assert isinstance(record, dict)
    assert record["externalUserId"] == "c-1" and record["action"] == "CREATE" and record["countryCode"] == "US"
    pii = record["hashedPII"][0]
    assert pii["email"] == hashlib.sha256(b"jane.doe@example.com").hexdigest()
    assert pii["phone"] == hashlib.sha256(b"12065550143").hexdigest()
    assert set(pii) == {"email", "phone", "city"}
    assert "userConsent" not in record


def test_delete_mode_sends_delete_with_the_same_hashes() -> None:
    row = {"externaluserid": "c-1", "email": "jane@example.com"}
    created, deleted = build(row), build(row, action="UPDATE", audience_id=1, upload_mode="DELETE")
    assert isinstance(created, dict) and isinstance(deleted, dict)
    assert deleted["action"] == "DELETE" and deleted["hashedPII"] == created["hashedPII"]


def test_row_country_overrides_the_default_and_uk_means_gb() -> None:
    record = build({"externaluserid": "c-1", "postal": "sw1a 1aa", "countrycode": "uk", "amznadstorage": "GRANTED"})
    assert isinstance(record, dict) and record["countryCode"] == "GB"
    assert record["userConsent"]["geo"] == {"countryCode": "GB"}


def test_prehashed_values_pass_through_lowercased() -> None:
    digest = hashlib.sha256(b"x").hexdigest()
    record = build({"externaluserid": "c-1", "email": digest.upper()})
    assert isinstance(record, dict) and record["hashedPII"] == [{"email": digest}]


def test_a_prehashed_empty_string_counts_as_empty() -> None:
    # sha256("") is what some tools write for a blank cell: it matches no one, so the field is omitted
    record = build({"externaluserid": "c-1", "email": "jane@example.com", "phone": f" {EMPTY_SHA256} "})
    assert isinstance(record, dict) and set(record["hashedPII"][0]) == {"email"}


def test_uk_eea_without_consent_is_sent_with_geo_when_allowed() -> None:
    record = build(
        {"externaluserid": "c-1", "email": "a@example.de", "countrycode": "DE"}, require_consent_for_uk_eea=False
    )
    assert isinstance(record, dict) and record["userConsent"] == {"geo": {"countryCode": "DE"}}


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"email": "a@example.com"}, "missing_external_user_id"),
        ({"externaluserid": "  ", "email": "a@example.com"}, "missing_external_user_id"),
        ({"externaluserid": "jane@example.com", "email": "a@example.com"}, "invalid_external_user_id"),
        ({"externaluserid": "x" * 129, "email": "a@example.com"}, "invalid_external_user_id"),
        ({"externaluserid": "c-1", "email": "a@example.com", "countrycode": "Narnia"}, "invalid_country_code"),
        ({"externaluserid": "c-1"}, "no_usable_identifier"),
        ({"externaluserid": "c-1", "email": "not an email", "phone": "12"}, "no_usable_identifier"),
        ({"externaluserid": "c-1", "email": "a@example.fr", "countrycode": "FR"}, "uk_eea_without_consent"),
        (
            {"externaluserid": "c-1", "email": "a@example.fr", "countrycode": "FR", "amznuserdata": "?"},
            "invalid_consent",
        ),
        ({"externaluserid": "c-1", "email": "a@example.de", "countrycode": "DE", "tcf": "no"}, "invalid_consent"),
        (
            {"externaluserid": "c-1", "email": "a@example.de", "countrycode": "DE", "gpp": "jane@example.com"},
            "invalid_consent",
        ),
        ({"externaluserid": "c-1", "email": EMPTY_SHA256}, "no_usable_identifier"),
        ({"externaluserid": "c-1", "firstname": EMPTY_SHA256.upper(), "city": " "}, "no_usable_identifier"),
    ],
)
def test_skips_carry_a_reason_code(row: dict[str, str], reason: str) -> None:
    assert build(row) == reason
