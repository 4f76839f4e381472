"""Ingest Lambda: SQS batch of Amazon Marketing Stream messages → gzip JSON lines in S3.

Environment: ``IngestEnvironment`` (raw bucket, realm, queue name prefix).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from adsbridge import METRICS_NAMESPACE
from adsbridge.stream.batch import StagingBatchProcessor
from adsbridge.stream.confirm import SnsConfirmer
from adsbridge.stream.handlers.batch_response import counted_partial_response
from adsbridge.stream.handlers.environment import IngestEnvironment
from adsbridge.stream.ingest import Ingestor, QueueMessage
from adsbridge.stream.writer import S3Writer

logger = Logger()
metrics = Metrics(namespace=METRICS_NAMESPACE)


@cache
def _sns(region: str) -> Any:
    return boto3.client("sns", region_name=region)


@cache
def _s3() -> Any:
    return boto3.client("s3")


def new_ingestor(sns_client_for: Callable[[str], Any] | None = None) -> Ingestor:
    """``sns_client_for`` (region → SNS client) confirms subscriptions; boto3's SNS unless given."""
    env = IngestEnvironment.from_environ()
    return Ingestor(
        writer=S3Writer(_s3(), env.bucket),
        confirmer=SnsConfirmer(sns_client_for or _sns),
        realm=env.realm,
        queue_prefix=env.queue_prefix,
    )


def _message(record: SQSRecord) -> QueueMessage:
    sent = record.attributes.sent_timestamp
    return QueueMessage(
        message_id=record.message_id,
        body=record.body,
        queue_arn=record.event_source_arn,
        sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
    )


def handle(event: dict[str, Any], context: LambdaContext, ingestor: Ingestor) -> dict[str, Any]:
    """One SQS batch through ``ingestor``: partial batch response, counts as metrics."""
    processor = StagingBatchProcessor(ingestor, logger=logger)
    return counted_partial_response(
        event, context, processor, lambda record: ingestor.stage(_message(record)), ingestor.counts, metrics
    )


def make_handler(sns_client_for: Callable[[str], Any] | None = None) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda entry point with its SNS confirmer's client factory chosen (the demo passes the emulator's)."""

    @logger.inject_lambda_context(log_event=False)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return handle(event, context, new_ingestor(sns_client_for))

    return lambda_handler


lambda_handler = make_handler()
