"""Confirm Amazon's SNS subscription to one of our queues, and nobody else's.

The topic must belong to Amazon's account for the queue's dataset, in the realm's region, and the message must
be what SNS writes for that topic: a ``SubscribeURL`` on the region's SNS endpoint naming the same topic and
token. Confirmation goes through the SNS ``ConfirmSubscription`` API in the topic's region; ``SubscribeURL`` is
never fetched (it is attacker-controlled text until the message is proven to be Amazon's).

Anything else raises ``UntrustedTopic``: the message is not confirmed and goes to the DLQ, where the DLQ alarm
shows it to an operator and a genuine one can still be redriven within its token's lifetime. Reasons name what
disagreed, never the token or the URL's text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from adsbridge.stream import datasets
from adsbridge.stream.envelope import Confirmation

# SNS topic names: 1-256 letters, digits, hyphens and underscores (.fifo for a FIFO topic).
TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}(\.fifo)?")
# Printable ASCII and no space. Python's URL parser drops tabs and line breaks anywhere and strips leading
# control characters and spaces, so "https://sns.us-east-1.amazon\taws.com/" would otherwise parse as SNS's host.
PRINTABLE = re.compile(r"[!-~]+")


class UntrustedTopic(ValueError):
    """A confirmation that is not Amazon's for this queue; left for the DLQ, never confirmed."""


def check_topic(topic_arn: str, *, realm: datasets.Realm, dataset: datasets.Dataset) -> str:
    """The topic's region, once the topic is proven to be Amazon's for ``dataset`` in ``realm``."""
    parts = topic_arn.split(":")
    if len(parts) != 6 or parts[:3] != ["arn", "aws", "sns"]:
        raise UntrustedTopic("TopicArn is not an SNS topic ARN")
    region, account = parts[3], parts[4]
    if not TOPIC_NAME.fullmatch(parts[5]):
        raise UntrustedTopic("TopicArn's topic name is not an SNS topic name")
    if region != realm.aws_region:
        raise UntrustedTopic(f"topic region {region} is not the {realm} realm's {realm.aws_region}")
    if dataset.accounts.get(realm) != account:
        raise UntrustedTopic(f"topic account {account} is not Amazon's {dataset.id} publisher in {region}")
    return region


def check_confirmation(confirmation: Confirmation, *, realm: datasets.Realm, dataset: datasets.Dataset) -> str:
    """The topic's region, once the topic is Amazon's and the ``SubscribeURL`` is SNS's own for it."""
    region = check_topic(confirmation.topic_arn, realm=realm, dataset=dataset)
    host = f"sns.{region}.amazonaws.com"
    if not PRINTABLE.fullmatch(confirmation.token):
        raise UntrustedTopic("Token holds a space or a control character")
    if not PRINTABLE.fullmatch(confirmation.subscribe_url):
        raise UntrustedTopic("SubscribeURL holds a space or a control character")
    try:
        url = urlsplit(confirmation.subscribe_url)
        query = parse_qs(url.query, keep_blank_values=True)
    except ValueError:
        raise UntrustedTopic("SubscribeURL is not a URL") from None
    # netloc equality also refuses a user part (sns…@elsewhere) and a port; the text itself must start as SNS
    # writes it, lower case (the parser lower-cases the scheme)
    parsed = (url.scheme, url.netloc, url.path, url.fragment)
    if parsed != ("https", host, "/", "") or not confirmation.subscribe_url.startswith(f"https://{host}/?"):
        raise UntrustedTopic(f"SubscribeURL is not on {host}")
    if query.get("Action") != ["ConfirmSubscription"]:
        raise UntrustedTopic("SubscribeURL is not a ConfirmSubscription")
    if query.get("TopicArn") != [confirmation.topic_arn]:
        raise UntrustedTopic("SubscribeURL names another TopicArn than the message")
    if query.get("Token") != [confirmation.token]:
        raise UntrustedTopic("SubscribeURL names another Token than the message")
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
