"""CloudFormation custom resource (behind ``custom_resources.Provider``): one Stream v2 subscription.

One resource per advertiser account and dataset; the physical id is Amazon's subscription id. Create subscribes
the landing bucket and its notification queue. Update with the same properties keeps the subscription; with
another account, dataset, bucket, queue or realm it subscribes anew and returns the new id, so CloudFormation's
cleanup Delete archives the old one. Delete archives (the API's delete); an id Amazon never issued, an unknown
id or an archived one is done.

The v2 API has no notes to mark a subscription with, so the ``clientRequestToken`` does the resource's
bookkeeping: it is derived from the stack, the logical id and the properties, so a retried Create, and the
rollback of an Update (CloudFormation asks for the old properties again while the old subscription still
lives), get the subscription those properties already have instead of a refused duplicate. When that token's
subscription is archived (the properties come back after a Delete), a token salted with the request id makes a
new one. Whether Amazon honours ``clientRequestToken`` like this is UNVERIFIED
(``adsbridge.ads.stream_v2_contract``); without it, a retry is refused as a duplicate and the stack says so.

Environment: ``SECRET_NAME`` (LwA credentials, see ``adsbridge.ads.secrets``).
Resource properties: ``Realm``, ``AdvertiserAccountId``, ``DatasetId``, ``BucketArn``, ``QueueArn``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from adsbridge.ads import session_for
from adsbridge.ads.secrets import credentials_from_secret
from adsbridge.ads.stream_v2_contract import ARCHIVED
from adsbridge.ads.streams_v2 import StreamsV2Client, SubscriptionRefused
from adsbridge.regions import Region
from adsbridge.stream.datasets import Realm

_FIELDS = ("Realm", "AdvertiserAccountId", "DatasetId", "BucketArn", "QueueArn")
_TOKENS = uuid.UUID("0b4f2a52-8f0e-4d2c-9a57-6f3c1e2d7b90")  # adsbridge's namespace for its request tokens


class SubscriptionFailed(RuntimeError):
    """Amazon refused the subscription; the message is what the CloudFormation event shows."""


def on_event(event: Mapping[str, Any], client_for: Callable[[Realm], StreamsV2Client]) -> dict[str, Any]:
    props = event["ResourceProperties"]
    client = client_for(Realm(props["Realm"]))
    account = str(props["AdvertiserAccountId"])
    kind = event["RequestType"]
    if kind == "Delete":
        _archive(client, account, event["PhysicalResourceId"])
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    old = event.get("OldResourceProperties") or {}
    if kind == "Update" and all(str(props.get(key)) == str(old.get(key)) for key in _FIELDS):
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    subscription_id = _subscribe(client, event)
    return {"PhysicalResourceId": subscription_id, "Data": {"SubscriptionId": subscription_id}}


def request_token(event: Mapping[str, Any], salt: str = "") -> str:
    """The same 36-character token for the same stack resource and properties (plus ``salt``)."""
    props = event["ResourceProperties"]
    name = "/".join([event["StackId"], event["LogicalResourceId"], *(str(props[key]) for key in _FIELDS), salt])
    return str(uuid.uuid5(_TOKENS, name))


def _subscribe(client: StreamsV2Client, event: Mapping[str, Any]) -> str:
    props = event["ResourceProperties"]
    args = (str(props["AdvertiserAccountId"]), str(props["DatasetId"]), str(props["BucketArn"]), str(props["QueueArn"]))
    try:
        subscription = client.create(*args, client_request_token=request_token(event))
        if subscription.status == ARCHIVED:
            subscription = client.create(*args, client_request_token=request_token(event, event["RequestId"]))
    except SubscriptionRefused as exc:
        raise SubscriptionFailed(
            f"Amazon refused to subscribe {props['BucketArn']} to {props['DatasetId']}: {exc}. A subscription made "
            "by hand to the same destination is not taken over: list them with `adsbridge streams v2 list` and "
            "archive it with `adsbridge streams v2 archive`, then deploy again."
        ) from None
    return subscription.subscription_id


def _archive(client: StreamsV2Client, account: str, subscription_id: str) -> None:
    if not subscription_id.startswith("amzn1."):
        return  # the Create failed before Amazon issued an id: nothing to archive
    subscription = client.get(account, subscription_id)
    if subscription is not None and subscription.status != ARCHIVED:
        client.delete(account, [subscription_id])


def client_from_secret(secret_name: str, secrets: Any) -> Callable[[Realm], StreamsV2Client]:
    """v2 clients per realm with the stack's LwA credentials (read once per invocation)."""
    credentials = credentials_from_secret(secrets, secret_name)
    return lambda realm: StreamsV2Client(session_for(Region(realm.value), credentials))
