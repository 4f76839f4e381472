"""A dead-letter queue for what EventBridge or Scheduler could not deliver after its retries."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from infra.constructs.acks import acknowledge


def dead_letter_queue(scope: Construct, construct_id: str, *, of: str) -> sqs.Queue:
    """Keeps ``of``'s undelivered events for 14 days: long enough to notice the alarm and start them again."""
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )
    acknowledge(
        queue.node.default_child,  # type: ignore[arg-type]
        {"AwsSolutions-SQS3": f"this is the dead-letter queue of {of}"},
    )
    return queue
