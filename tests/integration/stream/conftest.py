"""Stream-in integration: moto S3/SQS/SNS, the ingest handler in-process, DuckDB over what it wrote."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from tests.integration.stream.lambda_event import BUCKET, REGION, environment, sqs_record

# Powertools reads these when the handler module is imported, as Lambda's environment provides them.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "stream-ingest")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "adsbridge")

from adsbridge.stream.handlers import ingest as handler
from adsbridge_sandbox.local_lambda import LocalContext


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in environment().items():
        monkeypatch.setenv(key, value)
    handler._s3.cache_clear()
    handler._sns.cache_clear()
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield


def invoke(records: list[dict[str, Any]]) -> set[str]:
    """Run the handler on one batch; the ids it reports as failed."""
    response = handler.lambda_handler({"Records": records}, LocalContext())  # type: ignore[arg-type]
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
