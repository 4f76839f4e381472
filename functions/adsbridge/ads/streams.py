"""Amazon Marketing Stream subscriptions API (marketing-stream.md §5): create, get, list, archive.

Sponsored-ads datasets live under ``/streams/subscriptions`` scoped by profile; DSP datasets under
``/dsp/streams/subscriptions`` scoped by advertiser. Amazon's material disagrees on the media types and on the
DSP header's name (§5.1, UNVERIFIED), so both are constructor arguments; the defaults are the onboarding guide's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from adsbridge.ads.session import AdsSession

SUBSCRIPTIONS_TYPE = "application/vnd.MarketingStreamSubscriptions.StreamSubscriptionResource.v1.0+json"
DSP_SUBSCRIPTIONS_TYPE = "application/vnd.MarketingStreamSubscriptions.DspStreamSubscriptionResource.v1.0+json"
# Sent by clients generated from the newer OpenAPI spec; which one Amazon now prefers is UNVERIFIED.
OPENAPI_SUBSCRIPTIONS_TYPE = "application/vnd.amazonmarketingstreamsubscriptions.v1+json"
SCOPE_HEADER = "Amazon-Advertising-API-Scope"
# The onboarding guide's spelling; the OpenAPI clients send Amazon-Ads-AccountId (UNVERIFIED, GH#373).
DSP_ACCOUNT_HEADER = "Amazon-Advertising-API-Account-ID"
STATUSES = (
    "PROVISIONING",
    "PENDING_CONFIRMATION",
    "ACTIVE",
    "FAILED_CONFIRMATION",
    "FAILED_PROVISIONING",
    "SUSPENDED",
    "ARCHIVED",
)


@dataclass(frozen=True)
class Owner:
    """Whose subscriptions: a sponsored-ads profile, or a DSP advertiser (``dsp=True``)."""

    id: str
    dsp: bool = False

    @property
    def label(self) -> str:
        return f"dsp-advertiser {self.id}" if self.dsp else f"profile {self.id}"


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    dataset_id: str
    status: str
    destination_arn: str
    created: str = ""
    updated: str = ""
    notes: str = ""

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> Subscription:
        destination = body.get("destination") or {}
        sqs = destination.get("sqsDestination") or {}
        firehose = destination.get("firehoseDestination") or {}
        arn = body.get("destinationArn") or sqs.get("queueArn") or firehose.get("deliveryStreamArn") or ""
        return cls(
            subscription_id=str(body["subscriptionId"]),
            dataset_id=str(body.get("dataSetId", "")),
            status=str(body.get("status", "UNKNOWN")),
            destination_arn=str(arn),
            created=str(body.get("createdDate", "")),
            updated=str(body.get("updatedDate", "")),
            notes=str(body.get("notes") or ""),
        )

    def to_json(self) -> dict[str, str]:
        return {
            "subscriptionId": self.subscription_id,
            "dataSetId": self.dataset_id,
            "status": self.status,
            "destinationArn": self.destination_arn,
            "createdDate": self.created,
            "updatedDate": self.updated,
            "notes": self.notes,
        }


class StreamsClient:
    """Thin wrappers over the subscription endpoints; retries and auth live in AdsSession."""

    def __init__(
        self,
        session: AdsSession,
        *,
        media_type: str = SUBSCRIPTIONS_TYPE,
        dsp_media_type: str = DSP_SUBSCRIPTIONS_TYPE,
        dsp_account_header: str = DSP_ACCOUNT_HEADER,
    ) -> None:
        self.session = session
        self.media_type = media_type
        self.dsp_media_type = dsp_media_type
        self.dsp_account_header = dsp_account_header

    def create(
        self,
        owner: Owner,
        dataset_id: str,
        queue_arn: str,
        *,
        client_request_token: str | None = None,
        notes: str = "",
    ) -> str:
        """Subscribe ``queue_arn``; the token makes a retried create return the same subscription."""
        body: dict[str, Any] = {
            "clientRequestToken": client_request_token or str(uuid.uuid4()),
            "dataSetId": dataset_id,
            "destination": {"sqsDestination": {"queueArn": queue_arn}},
        }
        if notes:
            body["notes"] = notes
        return str(self._call(owner, "POST", "", body=body)["subscriptionId"])

    def get(self, owner: Owner, subscription_id: str) -> Subscription:
        return Subscription.from_api(self._call(owner, "GET", f"/{subscription_id}")["subscription"])

    def list(self, owner: Owner, *, page_size: int = 100) -> Iterator[Subscription]:
        """Every subscription of ``owner``, following ``nextToken`` page by page."""
        params = {"maxResults": str(page_size)}
        while True:
            page = self._call(owner, "GET", "", params=params)
            for item in page.get("subscriptions") or ():
                yield Subscription.from_api(item)
            token = page.get("nextToken")
            if not token:
                return
            params = {"maxResults": str(page_size), "startingToken": str(token)}

    def archive(self, owner: Owner, subscription_id: str, *, notes: str = "") -> None:
        """There is no delete: ARCHIVED is the only status a client may set (§5.2)."""
        body = {"status": "ARCHIVED", **({"notes": notes} if notes else {})}
        self._call(owner, "PUT", f"/{subscription_id}", body=body)

    def _call(
        self,
        owner: Owner,
        method: str,
        suffix: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        if owner.dsp:
            path, media, header = "/dsp/streams/subscriptions", self.dsp_media_type, self.dsp_account_header
        else:
            path, media, header = "/streams/subscriptions", self.media_type, SCOPE_HEADER
        return self.session.call(
            method, path + suffix, media_type=media, body=body, params=params, headers={header: owner.id}
        )
