"""One source for the stream queues' settings: StreamStack deploys them, the demo provisions them in moto."""

from __future__ import annotations

import json

from adsbridge.stream import datasets
from adsbridge.stream.datasets import Realm
from adsbridge.stream.queues import REVIEWER_ROLE, QueueSettings, amazon_policy


def test_defaults_are_the_stacks_queue_attributes() -> None:
    settings = QueueSettings()
    assert settings.name("sp-traffic") == "adsbridge-sp-traffic"
    assert settings.dlq_name("sp-traffic") == "adsbridge-sp-traffic-dlq"
    assert settings.queue_attributes("arn:dlq") == {
        "MessageRetentionPeriod": str(7 * 86_400),
        "ReceiveMessageWaitTimeSeconds": "20",
        "VisibilityTimeout": str(6 * 120),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": "arn:dlq", "maxReceiveCount": 5}),
    }
    assert settings.dlq_attributes() == {"MessageRetentionPeriod": str(14 * 86_400)}


def test_the_dlq_keeps_a_message_a_week_longer_than_its_queue() -> None:
    """SQS keeps a dead-lettered message's original enqueue time, so it expires by the DLQ's retention counted
    from when Amazon sent it: at least a week in the DLQ after a week in the queue."""
    settings = QueueSettings()
    assert settings.dlq_retention_seconds - settings.retention_seconds >= 7 * 86_400
    assert settings.dlq_retention_seconds <= 14 * 86_400  # the most SQS allows


def test_visibility_follows_the_ingest_timeout() -> None:
    assert QueueSettings(ingest_timeout_seconds=30).visibility_timeout_seconds == 180


def test_the_policy_lets_only_amazons_account_send_and_the_reviewer_read() -> None:
    dataset = datasets.get("budget-usage")
    policy = json.loads(amazon_policy(dataset, Realm.EU, "arn:aws:sqs:eu-west-1:1:q"))
    send, review = policy["Statement"]
    assert send["Principal"] == {"Service": "sns.amazonaws.com"} and send["Action"] == "sqs:SendMessage"
    assert send["Condition"] == {"ArnLike": {"aws:SourceArn": "arn:aws:sns:eu-west-1:675750596317:*"}}
    assert review["Principal"] == {"AWS": REVIEWER_ROLE} and review["Action"] == "sqs:GetQueueAttributes"
    assert {send["Resource"], review["Resource"]} == {"arn:aws:sqs:eu-west-1:1:q"}
