"""CloudFormation custom resource (behind ``custom_resources.Provider``): one Marketing Stream subscription.

The physical id is Amazon's subscription id. Create subscribes (the stack makes it wait for the queue policy,
or Amazon's confirmation could not reach the queue); ``clientRequestToken`` is CloudFormation's RequestId, so
a retried call cannot subscribe twice. Each subscription's notes carry a mark of the stack resource that made
it. A live subscription with the same dataset and queue and this resource's mark is adopted instead of
duplicated (a retried Create; a rollback of an Update asks for the old one again); one without the mark
(made by hand, or by another resource) fails the Create with advice rather than being taken over, because
Delete archives, and an archived subscription can never deliver again. Update with another owner, dataset
or queue subscribes anew and returns a new id, so CloudFormation's cleanup Delete archives the old one.
Delete archives only subscriptions bearing this resource's mark; an unknown or archived id is done.

Environment: ``SECRET_NAME`` (LwA credentials, see ``adsbridge.ads.secrets``).
Resource properties: ``Realm``, ``OwnerId``, ``Dsp`` ("true"/"false"), ``DatasetId``, and either ``QueueArn`` or,
for Firehose delivery (no confirmation), ``DeliveryStreamArn``, ``SubscriptionRoleArn`` and ``SubscriberRoleArn``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger

from adsbridge.ads import ApiError, Owner, StreamsClient, session_for
from adsbridge.ads.secrets import credentials_from_secret
from adsbridge.ads.streams import FirehoseDestination
from adsbridge.regions import Region
from adsbridge.stream.datasets import Realm

logger = Logger()
LIVE = frozenset({"PROVISIONING", "PENDING_CONFIRMATION", "ACTIVE"})
_FIREHOSE_FIELDS = ("DeliveryStreamArn", "SubscriptionRoleArn", "SubscriberRoleArn")
_SUBSCRIPTION_FIELDS = ("Realm", "OwnerId", "Dsp", "DatasetId", "QueueArn", *_FIREHOSE_FIELDS)


class SubscriptionFailed(RuntimeError):
    """Amazon refused the subscription; the message is what the CloudFormation event shows."""


def on_event(event: Mapping[str, Any], client_for: Callable[[Realm], StreamsClient]) -> dict[str, Any]:
    props = event["ResourceProperties"]
    realm = Realm(props["Realm"])
    owner = Owner(str(props["OwnerId"]), dsp=props["Dsp"] == "true")
    client = client_for(realm)
    kind = event["RequestType"]
    mark = resource_mark(event)
    if kind == "Delete":
        _archive(client, owner, event["PhysicalResourceId"], mark)
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    if kind == "Update" and _same(props, event["OldResourceProperties"]):
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    subscription_id = _subscribe(client, owner, props["DatasetId"], _destination(props), event["RequestId"], mark)
    return {"PhysicalResourceId": subscription_id, "Data": {"SubscriptionId": subscription_id}}


def resource_mark(event: Mapping[str, Any]) -> str:
    """Which stack resource owns a subscription, short enough for its notes: the stack's unique id + logical id."""
    digest = hashlib.sha256(f"{event['StackId']}/{event['LogicalResourceId']}".encode()).hexdigest()[:16]
    return f"adsbridge:{digest}"


def _same(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    return all(str(new.get(key)) == str(old.get(key)) for key in _SUBSCRIPTION_FIELDS)


def _destination(props: Mapping[str, Any]) -> str | FirehoseDestination:
    if "QueueArn" in props:
        return str(props["QueueArn"])
    return FirehoseDestination(*(str(props[key]) for key in _FIREHOSE_FIELDS))


def _subscribe(
    client: StreamsClient, owner: Owner, dataset_id: str, destination: str | FirehoseDestination, token: str, mark: str
) -> str:
    arn = destination if isinstance(destination, str) else destination.delivery_stream_arn
    for existing in client.list(owner):
        if existing.dataset_id == dataset_id and existing.destination_arn == arn and existing.status in LIVE:
            if mark not in existing.notes:
                raise SubscriptionFailed(
                    f"{existing.subscription_id} already delivers {dataset_id} to {arn} for {owner.label} and "
                    "was not made by this stack resource, which will not take it over (deleting the resource would "
                    "archive it). Archive it with `adsbridge streams archive` and deploy again, or leave this "
                    "dataset out of the stack's subscriptions."
                )
            logger.info("adopting our own subscription", extra={"subscription_id": existing.subscription_id})
            return existing.subscription_id
    try:
        return client.create(
            owner, dataset_id, destination, client_request_token=token, notes=f"adsbridge StreamStack {mark}"
        )
    except ApiError as exc:
        if exc.retryable:
            raise
        raise SubscriptionFailed(
            f"Amazon refused to subscribe {arn} to {dataset_id} for {owner.label}: {exc.api_message}. "
            "Amazon allows 1 subscription per dataset and destination and 2 per dataset and owner; list them with "
            "`adsbridge streams list` and archive one with `adsbridge streams archive`."
        ) from None


def _archive(client: StreamsClient, owner: Owner, subscription_id: str, mark: str) -> None:
    if not subscription_id.startswith("amzn1."):
        return  # the Create failed before Amazon issued an id: nothing to archive
    try:
        subscription = client.get(owner, subscription_id)
    except ApiError as exc:
        if exc.status != 404:
            raise
        return
    if subscription.status == "ARCHIVED":
        return
    if mark not in subscription.notes:
        logger.warning("left live: not made by this resource", extra={"subscription_id": subscription_id})
        return
    client.archive(owner, subscription_id)


def client_from_secret(secret_name: str, secrets: Any) -> Callable[[Realm], StreamsClient]:
    """Clients per realm with the stack's LwA credentials (read once per invocation)."""
    credentials = credentials_from_secret(secrets, secret_name)
    return lambda realm: StreamsClient(session_for(Region(realm.value), credentials))
