"""Strict request validation, so client bugs surface in tests instead of in production.

Rules follow Amazon's API models (docs/amazon-api-models.md; limits from ``adsbridge.ads.contract``) and
docs/amc-audiences-api.md. Where Amazon's behaviour is UNVERIFIED the choice made here is stated next to the rule.
Error messages never echo hashed PII values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeGuard

from adsbridge.ads.contract import AUDIENCE_DESCRIPTION_MAX, AUDIENCE_NAME_LENGTH
from adsbridge.ads.contract import AUDIENCES_TYPE as AUDIENCES_TYPE  # re-exported for the routes
from adsbridge.ads.contract import CONNECTIONS_TYPE as CONNECTIONS_TYPE
from adsbridge.identity.countries import ISO_3166_ALPHA2

FORM_TYPE = "application/x-www-form-urlencoded"

# Country codes Amazon accepts for hashed PII records (docs/amc-audiences-api.md#countries), plus UNKNOWN.
COUNTRY_CODES = frozenset(
    {
        *("AE", "AU", "BE", "BR", "CA", "DE", "EG", "ES", "FR", "GB", "IN"),
        *("IT", "JP", "MX", "NL", "PL", "SA", "SE", "SG", "TR", "US", "UNKNOWN"),
    }
)
# An audience's countryCode may be any ISO 3166-1 alpha-2 code or UNKNOWN: "UK" is still refused
# (docs/amc-audiences-api.md#countries).
AUDIENCE_COUNTRY_CODES = ISO_3166_ALPHA2 | {"UNKNOWN"}
CURRENCIES = frozenset(("AED", "AUD", "CAD", "CNY", "EUR", "GBP", "INR", "JPY", "MXN", "SAR", "SEK", "TRY", "USD"))
PII_KEYS = frozenset({"email", "phone", "firstname", "lastname", "address", "city", "state", "postal"})
CONSENT_VALUES = frozenset({"DENIED", "GRANTED", "NOT_APPLICABLE", "UNKNOWN"})
ACTIONS = frozenset({"CREATE", "DELETE"})
MAX_TTL = 34_300_800
MAX_PII_VALUES = 100
MAX_LONG = 2**63 - 1

_EXTERNAL_USER_ID = re.compile(r"[0-9a-zA-Z_-]{1,128}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class ApiError(Exception):
    """An HTTP error answer: ``status`` plus the JSON ``body`` to send."""

    def __init__(self, status: int, message: str, *, body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = body if body is not None else {"message": message}


def bad_request(message: str) -> NoReturn:
    raise ApiError(400, message)


# --------------------------------------------------------------------------- media types and JSON


def media_type(header: str | None) -> tuple[str, dict[str, str]]:
    """Split a Content-Type/Accept item into (lower-case type, parameters)."""
    if not header:
        return "", {}
    main, *params = header.split(";")
    parsed: dict[str, str] = {}
    for param in params:
        key, _, value = param.partition("=")
        parsed[key.strip().lower()] = value.strip().strip('"').lower()
    return main.strip().lower(), parsed


def _vendor_types(expected: str | frozenset[str]) -> frozenset[str]:
    """One vendor type, or several where Amazon's material disagrees on which is current."""
    return frozenset({expected}) if isinstance(expected, str) else expected


def check_content_type(header: str | None, expected: str | frozenset[str]) -> None:
    """415 unless the body's media type is exactly ``expected`` (a ``charset=utf-8`` parameter is tolerated)."""
    kind, params = media_type(header)
    extra = {k: v for k, v in params.items() if not (k == "charset" and v == "utf-8")}
    types = _vendor_types(expected)
    if kind not in types or extra:
        wanted = " or ".join(sorted(types))
        raise ApiError(415, f"Unsupported Media Type: Content-Type must be {wanted}, got {header or 'none'}")


def check_accept(header: str | None, vendor_type: str | frozenset[str]) -> None:
    """406 if an Accept header is present and allows none of ``*/*``, application/json, the vendor type."""
    if header is None:
        return
    types = _vendor_types(vendor_type)
    allowed = {"*/*", "application/json", *types}
    for item in header.split(","):
        kind, params = media_type(item)
        if kind in allowed and params.get("q") not in {"0", "0.0", "0.00", "0.000"}:
            return
    wanted = ", ".join(sorted(types))
    raise ApiError(406, f"Not Acceptable: Accept must allow {wanted}, application/json or */*; got {header}")


def _reject_constant(name: str) -> NoReturn:
    bad_request(f"Malformed JSON: {name} is not valid JSON")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            bad_request(f"Malformed JSON: duplicate key {key!r}")
        obj[key] = value
    return obj


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Parse a request body that must be one JSON object (integers stay exact Python ints)."""
    if not raw:
        bad_request("Request body is required")
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys)
    except UnicodeDecodeError:
        bad_request("Malformed JSON: body is not UTF-8")
    except (json.JSONDecodeError, ValueError) as exc:
        bad_request(f"Malformed JSON: {exc}")
    if not isinstance(value, dict):
        bad_request("Request body must be a JSON object")
    return value


# --------------------------------------------------------------------------- small type checks


def is_json_int(value: object) -> TypeGuard[int]:
    """True for a JSON integer (Python bool is an int subclass but is not a JSON number)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _check_keys(obj: Mapping[str, Any], allowed: frozenset[str] | set[str], where: str) -> None:
    # Strictness choice: unknown keys are rejected so misspelt fields (e.g. "targetResources") fail loudly.
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        bad_request(f"Unknown field(s) in {where}: {', '.join(unknown)}")


def _string(obj: Mapping[str, Any], key: str, where: str, *, required: bool) -> str | None:
    if key not in obj:
        if required:
            bad_request(f"{where}.{key} is required")
        return None
    value = obj[key]
    if not isinstance(value, str):
        bad_request(f"{where}.{key} must be a string")
    return value


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        bad_request(f"{where} must be a JSON object")
    return value


# --------------------------------------------------------------------------- terms and connections


def validate_terms_patch(body: dict[str, Any]) -> tuple[str, bool]:
    _check_keys(body, {"agreementToken", "hasAccepted"}, "body")
    token = _string(body, "agreementToken", "body", required=True)
    accepted = body.get("hasAccepted")
    if not isinstance(accepted, bool):
        bad_request("hasAccepted is required and must be a boolean")
    assert token is not None
    return token, accepted


CONNECTION_STRING_FIELDS = (
    "amcAccountId",
    "amcAccountMarketplaceId",
    "amcInstanceId",
    "dspAdvertiserId",
    "dspProfileId",
    "connectionId",
)


@dataclass(frozen=True)
class ConnectionInput:
    fields: dict[str, str]
    is_default: bool


def validate_connection(body: dict[str, Any]) -> ConnectionInput:
    """String ids, at least one of amcInstanceId / dspAdvertiserId, optional boolean isDefault.

    See docs/amc-audiences-api.md#connections.
    """
    _check_keys(body, {*CONNECTION_STRING_FIELDS, "isDefault"}, "body")
    fields: dict[str, str] = {}
    for key in CONNECTION_STRING_FIELDS:
        value = _string(body, key, "body", required=False)
        if value is not None:
            if not value.strip():
                bad_request(f"{key} must not be empty")
            fields[key] = value
    if "amcInstanceId" not in fields and "dspAdvertiserId" not in fields:
        bad_request("A connection must be saved with at least one of amcInstanceId or dspAdvertiserId")
    is_default = body.get("isDefault", False)
    if not isinstance(is_default, bool):
        bad_request("isDefault must be a boolean")
    return ConnectionInput(fields, is_default)


# --------------------------------------------------------------------------- audience metadata


@dataclass(frozen=True)
class AudienceInput:
    name: str
    description: str
    connection_id: str | None
    advertiser_id: int | None
    country_code: str | None
    external_audience_id: str
    ttl: int | None
    audience_fees: list[dict[str, Any]] | None


def _ttl(value: object) -> int:
    if not is_json_int(value):
        bad_request("metadata.ttl must be an integer number of seconds")
    if not 0 <= value <= MAX_TTL:
        bad_request(f"metadata.ttl must be between 0 and {MAX_TTL}")
    return value


def _audience_fees(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        bad_request("metadata.audienceFees must be a list")
    fees: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        where = f"metadata.audienceFees[{index}]"
        fee = _object(item, where)
        _check_keys(fee, {"cpmCents", "currency"}, where)
        cents = fee.get("cpmCents")
        if not is_json_int(cents) or cents < 0:
            bad_request(f"{where}.cpmCents is required and must be an integer >= 0")
        currency = fee.get("currency")
        if currency not in CURRENCIES:
            bad_request(f"{where}.currency must be one of {' '.join(sorted(CURRENCIES))}")
        fees.append({"cpmCents": cents, "currency": currency})
    return fees


def _description(body: Mapping[str, Any]) -> str:
    description = _string(body, "description", "body", required=True)
    assert description is not None
    if len(description) > AUDIENCE_DESCRIPTION_MAX:
        bad_request(f"description must be at most {AUDIENCE_DESCRIPTION_MAX} characters")
    return description


def validate_audience_create(body: dict[str, Any]) -> AudienceInput:
    """CreateAudienceMetadataV2 request (docs/amc-audiences-api.md#audience-metadata)."""
    _check_keys(body, {"name", "description", "targetResource", "countryCode", "metadata"}, "body")
    name = _string(body, "name", "body", required=True)
    assert name is not None
    low, high = AUDIENCE_NAME_LENGTH
    if not low <= len(name) <= high:
        bad_request(f"name must be between {low} and {high} characters")
    description = _description(body)

    if "targetResource" not in body:
        bad_request("targetResource is required")
    target = _object(body["targetResource"], "targetResource")
    _check_keys(target, {"connectionId", "advertiserId"}, "targetResource")
    if len(target) != 1:
        bad_request("targetResource must contain exactly one of connectionId or advertiserId")
    connection_id = _string(target, "connectionId", "targetResource", required=False)
    advertiser_id: int | None = None
    if "advertiserId" in target:
        value = target["advertiserId"]
        if isinstance(value, str):
            bad_request("targetResource.advertiserId: STRING_VALUE can not be converted to a Long")
        if not is_json_int(value) or not 0 < value <= MAX_LONG:
            bad_request("targetResource.advertiserId must be a positive JSON integer")
        advertiser_id = value

    country = _string(body, "countryCode", "body", required=False)
    if country is not None and country not in AUDIENCE_COUNTRY_CODES:
        bad_request(f"countryCode {country!r} is not an ISO 3166-1 alpha-2 code or UNKNOWN")

    if "metadata" not in body:
        bad_request("metadata is required (metadata.externalAudienceId)")
    metadata = _object(body["metadata"], "metadata")
    _check_keys(metadata, {"externalAudienceId", "ttl", "audienceFees"}, "metadata")
    external_id = _string(metadata, "externalAudienceId", "metadata", required=True)
    assert external_id is not None
    if not external_id.strip():
        bad_request("metadata.externalAudienceId must not be empty")
    ttl = _ttl(metadata["ttl"]) if "ttl" in metadata else None
    fees = _audience_fees(metadata["audienceFees"]) if "audienceFees" in metadata else None
    return AudienceInput(name, description, connection_id, advertiser_id, country, external_id, ttl, fees)


@dataclass(frozen=True)
class AudienceUpdate:
    description: str | None
    ttl: int | None
    audience_fees: list[dict[str, Any]] | None


def validate_audience_update(body: dict[str, Any]) -> AudienceUpdate:
    """UpdateAudienceMetadataV2: only description, metadata.ttl and metadata.audienceFees may change.

    See docs/amc-audiences-api.md#audience-metadata.
    """
    _check_keys(body, {"description", "metadata"}, "body (only description, metadata.ttl, metadata.audienceFees)")
    description = _description(body) if "description" in body else None
    ttl: int | None = None
    fees: list[dict[str, Any]] | None = None
    if "metadata" in body:
        metadata = _object(body["metadata"], "metadata")
        _check_keys(metadata, {"ttl", "audienceFees"}, "metadata (only ttl and audienceFees are updatable)")
        ttl = _ttl(metadata["ttl"]) if "ttl" in metadata else None
        fees = _audience_fees(metadata["audienceFees"]) if "audienceFees" in metadata else None
    if description is None and ttl is None and fees is None:
        bad_request("Nothing to update: send description, metadata.ttl or metadata.audienceFees")
    return AudienceUpdate(description, ttl, fees)


def parse_audience_id_path(text: str) -> int:
    """Path ids must be plain decimal integers (a float-corrupted ``4.1e+17`` is a client bug → 400)."""
    if not text.isascii() or not text.isdigit() or int(text) > MAX_LONG:
        bad_request(f"audienceId in path must be an integer, got {text!r}")
    return int(text)


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class RecordInput:
    """One record as received. ``error`` is set for content problems reported later in invalidRecords."""

    external_id: str
    action: str
    pii: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class RecordsInput:
    audience_id: int
    connection_id: str | None
    target_types: tuple[str, ...]
    records: list[RecordInput]


def validate_records(body: dict[str, Any], max_records: int) -> RecordsInput:
    """ManageAudienceV2 (docs/amc-audiences-api.md#records). Structural problems → 400 for the whole request;
    content problems are per record.

    UNVERIFIED: whether Amazon rejects the whole request for one bad record. The emulator accepts it and
    reports the record in the job's invalidRecords, which is the stricter test of a client's reporting.
    """
    _check_keys(body, {"audienceId", "targetResource", "records"}, "body")
    if "audienceId" not in body:
        bad_request("audienceId is required")
    audience_id = body["audienceId"]
    if isinstance(audience_id, str):
        bad_request("STRING_VALUE can not be converted to a Long")
    if isinstance(audience_id, float):
        bad_request("audienceId must be an integer (Long); a decimal number was sent")
    if not is_json_int(audience_id) or not -MAX_LONG - 1 <= audience_id <= MAX_LONG:
        bad_request("audienceId must be an integer (Long)")

    connection_id: str | None = None
    target_types: tuple[str, ...] = ()
    if "targetResource" in body:
        target = _object(body["targetResource"], "targetResource")
        _check_keys(target, {"connectionId", "targetTypes"}, "targetResource")
        connection_id = _string(target, "connectionId", "targetResource", required=True)
        if connection_id == "":
            connection_id = None  # "If blank or not provided then the default active connection is used"
        if "targetTypes" in target:
            types = target["targetTypes"]
            if not isinstance(types, list) or len(types) > 1 or any(t != "DSP" for t in types):
                bad_request('targetResource.targetTypes must be [] or ["DSP"] (the model allows 1 item)')
            target_types = tuple(types)

    if "records" not in body:
        bad_request("records is required")
    records = body["records"]
    if not isinstance(records, list):
        bad_request("records must be a list")
    if not records:
        bad_request("records must contain at least 1 record")
    if len(records) > max_records:
        bad_request(f"records contains {len(records)} records; the limit is {max_records} per request")
    parsed = [_record(item, index) for index, item in enumerate(records)]
    return RecordsInput(audience_id, connection_id, target_types, parsed)


_RECORD_KEYS = frozenset({"externalUserId", "countryCode", "action", "hashedPII", "measurements", "userConsent"})


def _record(item: object, index: int) -> RecordInput:
    where = f"records[{index}]"
    record = _object(item, where)
    _check_keys(record, _RECORD_KEYS, where)
    external_id = _string(record, "externalUserId", where, required=True)
    assert external_id is not None
    action = record.get("action")
    if action not in ACTIONS:
        bad_request(f"{where}.action is required and must be CREATE or DELETE")
    country = _string(record, "countryCode", where, required=False)
    hashed = record.get("hashedPII")
    if not isinstance(hashed, list) or not hashed or not all(isinstance(h, dict) for h in hashed):
        bad_request(f"{where}.hashedPII is required and must be a non-empty list of objects")
    if "measurements" in record and not isinstance(record["measurements"], dict):
        bad_request(f"{where}.measurements must be a JSON object")
    problem = _record_problem(record, external_id, hashed, country)
    if problem:
        return RecordInput(external_id, action, {}, problem)
    pii: dict[str, list[str]] = {}
    for entry in hashed:
        for key, value in entry.items():
            pii.setdefault(key, []).append(value)
    return RecordInput(external_id, action, pii, None)


def _record_problem(
    record: dict[str, object], external_id: str, hashed: list[dict[str, object]], country: str | None
) -> str | None:
    """Why Amazon would refuse this well-formed record on its own (the rest of the request still counts)."""
    if not _EXTERNAL_USER_ID.fullmatch(external_id):
        return "Invalid externalUserId format: must match ^[0-9a-zA-Z_-]{1,128}$"
    values = [(key, value) for entry in hashed for key, value in entry.items()]
    for key, value in values:
        if key not in PII_KEYS:
            return f"Unsupported hashedPII key {key!r}; allowed: {', '.join(sorted(PII_KEYS))}"
        if not isinstance(value, str) or not _SHA256_HEX.fullmatch(value):
            return f"hashedPII.{key} is not a SHA-256 hash (64 lowercase hex characters)"
    if not values:
        return "hashedPII contains no values"
    if len(values) > MAX_PII_VALUES:
        return f"Too many hashed PII values ({len(values)}); the limit is {MAX_PII_VALUES} per member"
    if country is not None and country not in COUNTRY_CODES:
        return f"Unsupported countryCode {country!r}"
    if "userConsent" in record:
        problem = _consent_problem(record["userConsent"])
        if problem:
            return f"Invalid userConsent: {problem}"
    return None


def _consent_problem(consent: object) -> str | None:
    if not isinstance(consent, dict):
        return "must be an object"
    unknown = set(consent) - {"geo", "consent"}
    if unknown:
        return f"unknown field(s) {', '.join(sorted(unknown))}"
    if "geo" in consent:
        problem = _geo_problem(consent["geo"])
        if problem:
            return problem
    return _signals_problem(consent["consent"]) if "consent" in consent else None


def _geo_problem(geo: object) -> str | None:
    if not isinstance(geo, dict) or set(geo) - {"countryCode", "ipAddress"}:
        return "geo must be an object with countryCode and optional ipAddress"
    country = geo.get("countryCode")
    if not isinstance(country, str) or len(country) != 2 or not country.isupper():
        return "geo.countryCode must be an ISO 3166-1 alpha-2 code"
    if "ipAddress" in geo and not isinstance(geo["ipAddress"], str):
        return "geo.ipAddress must be a string"
    return None


def _signals_problem(inner: object) -> str | None:
    if not isinstance(inner, dict) or set(inner) - {"amzn", "tcf", "gpp"}:
        return "consent must be an object with amzn, tcf and/or gpp"
    for key in ("tcf", "gpp"):
        if key in inner and not isinstance(inner[key], str):
            return f"consent.{key} must be a string"
    if "amzn" in inner:
        amzn = inner["amzn"]
        if not isinstance(amzn, dict) or set(amzn) - {"amznAdStorage", "amznUserData"}:
            return "consent.amzn must be an object with amznAdStorage and amznUserData"
        for key, value in amzn.items():
            if value not in CONSENT_VALUES:
                return f"consent.amzn.{key} must be one of {' '.join(sorted(CONSENT_VALUES))}"
    return None
