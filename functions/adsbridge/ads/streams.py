"""Amazon Marketing Stream subscriptions API (docs/marketing-stream.md#subscriptions-api): create, get, list, archive.

Sponsored-ads datasets live under ``/streams/subscriptions`` scoped by profile; DSP datasets under
``/dsp/streams/subscriptions`` scoped by advertiser. Media type and header names are those of Amazon's API
model (``adsbridge.ads.contract``, docs/amazon-api-models.md); the onboarding guide's older spellings
(``application/vnd.MarketingStreamSubscriptions.…v1.0+json``, ``Amazon-Advertising-API-Account-ID``) are not
in the model. They stay constructor arguments only so an operator can follow Amazon if it changes them again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from adsbridge.ads.contract import (
    CLIENT_REQUEST_TOKEN_LENGTH,
    DSP_ACCOUNT_HEADER,
    MAX_LIST_RESULTS,
    QUEUE_ARN_MAX,
    SCOPE_HEADER,
    SUBSCRIPTIONS_TYPE,
    check_length,
    check_notes,
    check_owner,
    check_subscription_id,
)
from adsbridge.ads.errors import ContractError
from adsbridge.ads.session import AdsSession

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
class FirehoseDestination:
    """Delivery into a Firehose stream instead of a queue (docs/ads-api-contract.json, ``firehoseDestination``):
    SNS puts records as ``subscription_role_arn``; Amazon's SubscriberRole assumes ``subscriber_role_arn`` to
    subscribe the stream. No confirmation step."""

    delivery_stream_arn: str
    subscription_role_arn: str
    subscriber_role_arn: str

    def to_api(self) -> dict[str, dict[str, str]]:
        fields = {
            "deliveryStreamArn": self.delivery_stream_arn,
            "subscriptionRoleArn": self.subscription_role_arn,
            "subscriberRoleArn": self.subscriber_role_arn,
        }
        for name, arn in fields.items():
            check_length(name, arn, 1, QUEUE_ARN_MAX)  # every destination ARN: at most 255 in the model
        return {"firehoseDestination": fields}


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
        dsp_account_header: str = DSP_ACCOUNT_HEADER,
    ) -> None:
        self.session = session
        self.media_type = media_type
        self.dsp_account_header = dsp_account_header

    def create(
        self,
        owner: Owner,
        dataset_id: str,
        destination: str | FirehoseDestination,
        *,
        client_request_token: str | None = None,
        notes: str = "",
    ) -> str:
        """Subscribe ``destination`` (a queue ARN, or a Firehose destination); the token makes a retried create
        return the same subscription.

        A token outside 22-36 characters, notes over 128 or an ARN over 255 raise ContractError before anything
        is sent.
        """
        token = client_request_token or str(uuid.uuid4())
        check_length("clientRequestToken", token, *CLIENT_REQUEST_TOKEN_LENGTH)
        check_notes(notes)
        if isinstance(destination, str):
            check_length("queueArn", destination, 1, QUEUE_ARN_MAX)
        body: dict[str, Any] = {
            "clientRequestToken": token,
            "dataSetId": dataset_id,
            "destination": (
                {"sqsDestination": {"queueArn": destination}} if isinstance(destination, str) else destination.to_api()
            ),
        }
        if notes:
            body["notes"] = notes
        return str(self._call(owner, "POST", "", body=body)["subscriptionId"])

    def get(self, owner: Owner, subscription_id: str) -> Subscription:
        check_subscription_id(subscription_id)
        return Subscription.from_api(self._call(owner, "GET", f"/{subscription_id}")["subscription"])

    def list(self, owner: Owner, *, page_size: int = 100) -> Iterator[Subscription]:
        """Every subscription of ``owner``, following ``nextToken`` page by page."""
        if not 1 <= page_size <= MAX_LIST_RESULTS:
            raise ContractError(f"page_size: must be 1-{MAX_LIST_RESULTS} (Amazon's API model), got {page_size}")
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
        """No delete: ARCHIVED is the only status a client may set (docs/marketing-stream.md#subscriptions-api)."""
        check_subscription_id(subscription_id)
        check_notes(notes)
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
        check_owner(owner.id, dsp=owner.dsp)
        if owner.dsp:
            path, header = "/dsp/streams/subscriptions", self.dsp_account_header
        else:
            path, header = "/streams/subscriptions", SCOPE_HEADER
        return self.session.call(
            method, path + suffix, media_type=self.media_type, body=body, params=params, headers={header: owner.id}
        )
