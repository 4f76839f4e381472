"""Confirm Amazon's SNS subscription to one of our queues, and nobody else's.

The topic must belong to Amazon's account for the queue's dataset, in the realm's region. Confirmation
goes through the SNS ``ConfirmSubscription`` API in the topic's region; ``SubscribeURL`` is never fetched
(it is attacker-controlled text until the topic is proven to be Amazon's).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adsbridge.stream import datasets


class UntrustedTopic(ValueError):
    """A confirmation from a topic that is not Amazon's for this queue; left for the DLQ, never confirmed."""


def check_topic(topic_arn: str, *, realm: datasets.Realm, dataset: datasets.Dataset) -> str:
    """The topic's region, once the topic is proven to be Amazon's for ``dataset`` in ``realm``."""
    parts = topic_arn.split(":")
    if len(parts) != 6 or parts[:3] != ["arn", "aws", "sns"]:
        raise UntrustedTopic("TopicArn is not an SNS topic ARN")
    region, account = parts[3], parts[4]
    if region != realm.aws_region:
        raise UntrustedTopic(f"topic region {region} is not the {realm} realm's {realm.aws_region}")
    if dataset.accounts.get(realm) != account:
        raise UntrustedTopic(f"topic account {account} is not Amazon's {dataset.id} publisher in {region}")
    return region


class SnsConfirmer:
    """Calls ``ConfirmSubscription`` with a client for the topic's region (``client_for`` builds or caches it)."""

    def __init__(self, client_for: Callable[[str], Any]) -> None:
        self._client_for = client_for

    def confirm(self, region: str, topic_arn: str, token: str) -> str:
        response = self._client_for(region).confirm_subscription(
            TopicArn=topic_arn, Token=token, AuthenticateOnUnsubscribe="true"
        )
        return str(response["SubscriptionArn"])
