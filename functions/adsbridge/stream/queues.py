"""The stream queues' settings and Amazon's queue policy: one source for StreamStack and the demo's queues in moto.

Pure Python, so the Lambda package, ``adsbridge demo`` and the CDK stack (infra/stream/stack.py) all read the
same values: what the stack deploys is what the demo provisions in moto.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from adsbridge.stream.amazon_principals import REVIEWER_ROLE
from adsbridge.stream.datasets import DEFAULT_QUEUE_PREFIX, Dataset, Realm
from adsbridge.stream.redrive import DLQ_SUFFIX

INGEST_TIMEOUT_SECONDS = 120  # the ingest Lambda's default timeout (StreamConfig.lambda_timeout_seconds)
SNS_SID = "AllowAmazonMarketingStreamSns"
REVIEWER_SID = "AllowAmazonMarketingStreamReviewer"


@dataclass(frozen=True)
class QueueSettings:
    """Each dataset's Standard queue and its DLQ, as the ingest Lambda's event source needs them."""

    ingest_timeout_seconds: int = INGEST_TIMEOUT_SECONDS
    prefix: str = DEFAULT_QUEUE_PREFIX
    receive_wait_seconds: int = 20  # long polling: the most SQS allows
    # A dead-lettered message keeps its original enqueue time, so the DLQ must keep messages longer than the
    # source queue or one that waited there would expire soon after reaching it: a week in the queue to fix ingest,
    # then at least another week in the DLQ (14 days is the most SQS allows).
    retention_days: int = 7
    dlq_retention_days: int = 14
    max_receive_count: int = 5  # receives before a message is dead-lettered
    visibility_factor: int = 6  # AWS's advice for an SQS event source: 6 × the function's timeout

    @property
    def visibility_timeout_seconds(self) -> int:
        return self.ingest_timeout_seconds * self.visibility_factor

    @property
    def retention_seconds(self) -> int:
        return self.retention_days * 86_400

    @property
    def dlq_retention_seconds(self) -> int:
        return self.dlq_retention_days * 86_400

    def name(self, dataset_id: str) -> str:
        return f"{self.prefix}{dataset_id}"

    def dlq_name(self, dataset_id: str) -> str:
        return f"{self.name(dataset_id)}{DLQ_SUFFIX}"

    def redrive_policy(self, dlq_arn: str) -> dict[str, Any]:
        return {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": self.max_receive_count}

    def dlq_attributes(self) -> dict[str, str]:
        """SQS ``CreateQueue`` attributes of a DLQ."""
        return {"MessageRetentionPeriod": str(self.dlq_retention_seconds)}

    def queue_attributes(self, dlq_arn: str) -> dict[str, str]:
        """SQS ``CreateQueue`` attributes of a dataset's queue (its policy aside: it needs the queue's ARN)."""
        return {
            "MessageRetentionPeriod": str(self.retention_seconds),
            "ReceiveMessageWaitTimeSeconds": str(self.receive_wait_seconds),
            "VisibilityTimeout": str(self.visibility_timeout_seconds),
            "RedrivePolicy": json.dumps(self.redrive_policy(dlq_arn)),
        }


def amazon_statements(dataset: Dataset, realm: Realm, queue_arn: str) -> list[dict[str, Any]]:
    """Exactly what Amazon needs: SendMessage from the dataset's SNS account in the realm, the reviewer's read."""
    return [
        {
            "Sid": SNS_SID,
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {"ArnLike": {"aws:SourceArn": dataset.sns_source_arn(realm)}},
        },
        {
            "Sid": REVIEWER_SID,
            "Effect": "Allow",
            "Principal": {"AWS": REVIEWER_ROLE},
            "Action": "sqs:GetQueueAttributes",
            "Resource": queue_arn,
        },
    ]


def amazon_policy(dataset: Dataset, realm: Realm, queue_arn: str) -> str:
    """The queue's ``Policy`` attribute for SQS's API (the stack adds the statements to its own resource policy)."""
    return json.dumps({"Version": "2012-10-17", "Statement": amazon_statements(dataset, realm, queue_arn)})
