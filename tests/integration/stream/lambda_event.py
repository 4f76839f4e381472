"""What Lambda gives the ingest handler (its environment, SQS event records, a context), shared by the
stream integration tests and ``bench/ingest_bench.py`` so both drive the handler the same way."""

from __future__ import annotations

from typing import Any

BUCKET = "adsbridge-stream-raw"
PREFIX = "adsbridge-"
REGION = "us-east-1"


def environment() -> dict[str, str]:
    """The ingest function's variables (infra/stream) plus moto's credentials."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "BUCKET": BUCKET,
        "REALM": "NA",
        "QUEUE_PREFIX": PREFIX,
        "POWERTOOLS_SERVICE_NAME": "stream-ingest",
        "POWERTOOLS_METRICS_NAMESPACE": "adsbridge",
    }


def queue_arn(dataset_id: str) -> str:
    return f"arn:aws:sqs:{REGION}:123456789012:{PREFIX}{dataset_id}"


def sqs_record(message_id: str, body: str, arn: str, sent_ms: int) -> dict[str, Any]:
    """One record of Lambda's SQS event, as the event source mapping builds it."""
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(sent_ms)},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": REGION,
    }
