"""CloudFormation custom resource (behind ``custom_resources.Provider``): one Marketing Stream subscription.

The physical id is Amazon's subscription id. Create subscribes (the stack makes it wait for the queue policy,
or Amazon's confirmation could not reach the queue); ``clientRequestToken`` is CloudFormation's RequestId, so
a retried call cannot subscribe twice. A live subscription with the same dataset and queue is adopted instead
of duplicated: Amazon allows one per destination, and a rollback of an Update asks for the old one again.
Update with another owner, dataset or queue subscribes anew and returns a new id, so CloudFormation's cleanup
Delete archives the old one. Delete archives (Amazon has no delete); an unknown or archived id is done.

Environment: ``SECRET_NAME`` (LwA credentials, see ``adsbridge.ads.secrets``).
Resource properties: ``Realm``, ``OwnerId``, ``Dsp`` ("true"/"false"), ``DatasetId``, ``QueueArn``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from adsbridge.ads import ApiError, Owner, StreamsClient, session_for
from adsbridge.ads.secrets import credentials_from_secret
from adsbridge.regions import Region
from adsbridge.stream.datasets import Realm

logger = Logger()
LIVE = frozenset({"PROVISIONING", "PENDING_CONFIRMATION", "ACTIVE"})
_SUBSCRIPTION_FIELDS = ("Realm", "OwnerId", "Dsp", "DatasetId", "QueueArn")


class SubscriptionFailed(RuntimeError):
    """Amazon refused the subscription; the message is what the CloudFormation event shows."""


def on_event(event: Mapping[str, Any], client_for: Callable[[Realm], StreamsClient]) -> dict[str, Any]:
    props = event["ResourceProperties"]
    realm = Realm(props["Realm"])
    owner = Owner(str(props["OwnerId"]), dsp=props["Dsp"] == "true")
    client = client_for(realm)
    kind = event["RequestType"]
    if kind == "Delete":
        _archive(client, owner, event["PhysicalResourceId"])
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    if kind == "Update" and _same(props, event["OldResourceProperties"]):
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    subscription_id = _subscribe(client, owner, props["DatasetId"], props["QueueArn"], token=event["RequestId"])
    return {"PhysicalResourceId": subscription_id, "Data": {"SubscriptionId": subscription_id}}


def _same(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    return all(str(new.get(key)) == str(old.get(key)) for key in _SUBSCRIPTION_FIELDS)


def _subscribe(client: StreamsClient, owner: Owner, dataset_id: str, queue_arn: str, *, token: str) -> str:
    for existing in client.list(owner):
        if existing.dataset_id == dataset_id and existing.destination_arn == queue_arn and existing.status in LIVE:
            logger.info("adopting existing subscription", extra={"subscription_id": existing.subscription_id})
            return existing.subscription_id
    try:
        return client.create(owner, dataset_id, queue_arn, client_request_token=token, notes="adsbridge StreamStack")
    except ApiError as exc:
        if exc.retryable:
            raise
        raise SubscriptionFailed(
            f"Amazon refused to subscribe {queue_arn} to {dataset_id} for {owner.label}: {exc.api_message}. "
            "Amazon allows 1 subscription per dataset and queue and 2 per dataset and owner; list them with "
            "`adsbridge streams list` and archive one with `adsbridge streams archive`."
        ) from None


def _archive(client: StreamsClient, owner: Owner, subscription_id: str) -> None:
    if not subscription_id.startswith("amzn1."):
        return  # the Create failed before Amazon issued an id: nothing to archive
    try:
        if client.get(owner, subscription_id).status != "ARCHIVED":
            client.archive(owner, subscription_id)
    except ApiError as exc:
        if exc.status != 404:
            raise


def client_from_secret(secret_name: str, secrets: Any) -> Callable[[Realm], StreamsClient]:
    """Clients per realm with the stack's LwA credentials (read once per invocation)."""
    credentials = credentials_from_secret(secrets, secret_name)
    return lambda realm: StreamsClient(session_for(Region(realm.value), credentials))


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return on_event(event, client_from_secret(os.environ["SECRET_NAME"], boto3.client("secretsmanager")))
