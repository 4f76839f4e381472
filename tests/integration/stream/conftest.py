"""Stream-in integration: moto S3/SQS/SNS, the ingest handler in-process, DuckDB over what it wrote."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

# Powertools reads these when the handler module is imported, as Lambda's environment provides them.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "stream-ingest")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "adsbridge")

from adsbridge.stream import handler

BUCKET = "adsbridge-stream-raw"
PREFIX = "adsbridge-"
REGION = "us-east-1"


@dataclass
class FakeContext:
    function_name: str = "ingest"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:ingest"
    aws_request_id: str = "req-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "BUCKET": BUCKET,
        "REALM": "NA",
        "QUEUE_PREFIX": PREFIX,
    }.items():
        monkeypatch.setenv(key, value)
    handler._s3.cache_clear()
    handler._sns.cache_clear()
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield


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


def invoke(records: list[dict[str, Any]]) -> set[str]:
    """Run the handler on one batch; the ids it reports as failed."""
    response = handler.lambda_handler({"Records": records}, FakeContext())  # type: ignore[arg-type]
    return {item["itemIdentifier"] for item in response["batchItemFailures"]}


Invoke = Callable[[list[dict[str, Any]]], set[str]]


def drain(queue_url: str, arn: str, *, rounds: int = 50) -> int:
    """Play the event source mapping: receive, invoke, delete what succeeded, until the queue is empty."""
    sqs = boto3.client("sqs", region_name=REGION)
    for invocations in range(rounds):
        got = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0, AttributeNames=["All"]
        ).get("Messages", [])
        if not got:
            return invocations  # batches handled before this empty receive
        batch = [
            {**sqs_record(m["MessageId"], m["Body"], arn, int(m["Attributes"]["SentTimestamp"])),
             "receiptHandle": m["ReceiptHandle"], "attributes": m["Attributes"]}
            for m in got
        ]  # fmt: skip
        failed = invoke(batch)
        for m in got:
            if m["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    raise AssertionError("queue did not drain")


def all_lines(bucket: str = BUCKET) -> dict[str, list[dict[str, Any]]]:
    import gzip

    s3 = boto3.client("s3", region_name=REGION)
    found: dict[str, list[dict[str, Any]]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            body = gzip.decompress(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
            found[obj["Key"]] = [json.loads(line) for line in body.splitlines()]
    return found
