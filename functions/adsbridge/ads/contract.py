"""What Amazon's published API models allow, each fact once: media types, header names, field limits.

Amazon's OpenAPI models for the AMC audiences and Marketing Stream subscriptions APIs are the contract
(docs/amazon-api-models.md says where they come from); docs/ads-api-contract.json restates them, and the
contract test checks every request the client sends against it. The client and the emulator both read the
limits from here, so a correction to the model is one edit; the test keeps this module in step with the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from adsbridge.ads.errors import ContractError

AUDIENCES_TYPE = "application/vnd.amcaudiences.v1+json"
CONNECTIONS_TYPE = "application/vnd.amcaudiencesconnections.v1+json"
# One media type for every subscription call, sponsored-ads and DSP alike.
SUBSCRIPTIONS_TYPE = "application/vnd.amazonmarketingstreamsubscriptions.v1+json"

CLIENT_ID_HEADER = "Amazon-Advertising-API-ClientId"
SCOPE_HEADER = "Amazon-Advertising-API-Scope"  # the sponsored-ads profile
DSP_ACCOUNT_HEADER = "Amazon-Ads-Account-ID"  # the DSP advertiser, required on every /dsp/streams call

AUDIENCE_NAME_LENGTH = (10, 128)
AUDIENCE_DESCRIPTION_MAX = 1_000
SUBSCRIPTION_NOTES_MAX = 128
CLIENT_REQUEST_TOKEN_LENGTH = (22, 36)
MAX_RECORDS_PER_REQUEST = 10_000
MAX_LIST_RESULTS = 5_000
QUEUE_ARN_MAX = 255
SUBSCRIPTION_ID_MAX = 255
# The models type the owner headers and the subscription id as strings; what goes out is narrower, because each
# is placed in a header or a URL path as given. Profile ids are numbers and DSP advertiser ids word characters
# (as the stack's config takes them); a subscription id is one path segment of URL-safe characters (Amazon's are
# amzn1.fead.cs1.<base64url>), so "/", "?", "%", ".." or a line break can never turn it into another request.
PROFILE_ID = re.compile(r"[0-9]{1,20}")  # ASCII: \d would take other scripts' digits too
DSP_ADVERTISER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
SUBSCRIPTION_ID = re.compile(rf"[A-Za-z0-9._~-]{{1,{SUBSCRIPTION_ID_MAX}}}")


def check_length(field: str, value: str, low: int, high: int) -> None:
    """Refuse a string outside ``low``-``high`` characters, naming the field and never echoing the value."""
    if not low <= len(value) <= high:
        raise ContractError(f"{field}: must be {low}-{high} characters (Amazon's API model), got {len(value)}")


def check_audience(body: Mapping[str, Any]) -> None:
    """The limits of CreateAudienceMetadataV2 a caller's settings can break: name and description lengths."""
    check_length("audience_name", str(body.get("name") or ""), *AUDIENCE_NAME_LENGTH)
    check_length("audience_description", str(body.get("description") or ""), 0, AUDIENCE_DESCRIPTION_MAX)


def check_records(count: int, target_resource: Mapping[str, Any] | None) -> None:
    """ManageAudienceV2: 1 to 10,000 records, and a ``targetResource`` only with its ``connectionId``."""
    if not 1 <= count <= MAX_RECORDS_PER_REQUEST:
        raise ContractError(f"records: a request carries 1-{MAX_RECORDS_PER_REQUEST} records, got {count}")
    if target_resource and not target_resource.get("connectionId"):
        raise ContractError("targetResource.connectionId: required whenever targetResource is sent")


def check_notes(notes: str) -> None:
    check_length("notes", notes, 0, SUBSCRIPTION_NOTES_MAX)


def check_owner(owner_id: str, *, dsp: bool) -> None:
    """A profile id is 1-20 digits, a DSP advertiser id 1-64 letters, digits, '_' or '-'; never echoed."""
    if dsp and not DSP_ADVERTISER_ID.fullmatch(owner_id):
        raise ContractError("dsp_advertiser_id: must be 1-64 letters, digits, '_' or '-'")
    if not dsp and not PROFILE_ID.fullmatch(owner_id):
        raise ContractError("profile_id: must be 1-20 digits")


def check_subscription_id(subscription_id: str) -> None:
    """One URL path segment: 1-255 letters, digits, '.', '_', '~' or '-', and not '.' or '..' alone."""
    if not SUBSCRIPTION_ID.fullmatch(subscription_id) or set(subscription_id) == {"."}:
        raise ContractError(
            f"subscription_id: must be 1-{SUBSCRIPTION_ID_MAX} letters, digits, '.', '_', '~' or '-' "
            "(Amazon's look like amzn1.fead.cs1.…)"
        )
