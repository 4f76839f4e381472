"""The emulator's v1 delivery to a Firehose destination, into moto's Firehose set up as the stack's streams are
(infra/stream/firehose.py), and what moto (5.x) makes of it.

What works: ``publish`` puts each ACTIVE Firehose subscription's records with ``PutRecordBatch`` (≤ 500 records,
≤ 4 MiB a call), the bare JSON record as each Firehose record, and moto writes every call's records at once into
the stream's bucket. What moto does not do, pinned below so a moto upgrade that starts doing it is noticed: it
evaluates no prefix expression (``!{partitionKeyFromQuery:dt}`` stays literal text) and appends its own
``YYYY/MM/DD/HH/`` of the wall clock; it ignores the processors (no JQ partitioning, no appended newline),
compression (plain bytes, no ``.json.gz``), buffering and the error prefix. So the objects do not land in the
``dataset=/dt=/hour=`` layout the v1 tables read, and the demo's v1 tables come from the SQS path only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from adsbridge_sandbox.emulator import Emulator
from adsbridge_sandbox.emulator.firehose_delivery import MAX_RECORDS, FirehoseDelivery
from adsbridge_sandbox.emulator.streams import DeliveryError, Owner

PROFILE = Owner("3519471835403213", False)
BUCKET = "adsbridge-stream-raw"
NAME = "adsbridge-sp-traffic"
ROLE = "arn:aws:iam::123456789012:role/firehose-delivery"
PREFIX = "dataset=sp-traffic/dt=!{partitionKeyFromQuery:dt}/hour=!{partitionKeyFromQuery:hour}/"


@pytest.fixture
def aws() -> Iterator[tuple[Any, Any, Any, str]]:
    with mock_aws():
        s3, sqs = boto3.client("s3", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
        firehose = boto3.client("firehose", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        processors = [
            {"Type": "MetadataExtraction", "Parameters": [{"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{dt: .d, hour: .h}"}, {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]},
            {"Type": "AppendDelimiterToRecord", "Parameters": [{"ParameterName": "Delimiter", "ParameterValue": "\\n"}]},
        ]  # fmt: skip
        arn = firehose.create_delivery_stream(
            DeliveryStreamName=NAME,
            DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": ROLE,
                "BucketARN": f"arn:aws:s3:::{BUCKET}",
                "Prefix": PREFIX,
                "ErrorOutputPrefix": "firehose-errors/",
                "CompressionFormat": "GZIP",
                "FileExtension": ".json.gz",
                "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 300},
                "DynamicPartitioningConfiguration": {"Enabled": True},
                "ProcessingConfiguration": {"Enabled": True, "Processors": processors},
            },
        )["DeliveryStreamARN"]
        yield s3, sqs, firehose, arn


def _subscribe(emu: Emulator, stream_arn: str) -> str:
    destination = {
        "deliveryStreamArn": stream_arn,
        "subscriptionRoleArn": "arn:aws:iam::123456789012:role/subscription",
        "subscriberRoleArn": "arn:aws:iam::123456789012:role/subscriber",
    }
    body = {
        "clientRequestToken": "firehose-test-token-000001",
        "dataSetId": "sp-traffic",
        "destination": {"firehoseDestination": destination},
    }
    subscription_id: str = emu.subscriptions.create(PROFILE, body)["subscriptionId"]
    return subscription_id


def _records(count: int) -> list[dict[str, Any]]:
    return [{"idempotency_id": f"r{i}", "dataset_id": "sp-traffic", "clicks": i} for i in range(count)]


def _objects(s3: Any) -> dict[str, bytes]:
    found = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in found}


def test_publish_puts_bare_records_and_moto_writes_one_object_per_call(aws: Any) -> None:
    s3, sqs, firehose, arn = aws
    emu = Emulator(sqs_client_for=lambda r: sqs, firehose_client_for=lambda r: firehose)
    sid = _subscribe(emu, arn)
    assert emu.subscriptions.status(sid) == "ACTIVE"  # no confirmation step
    records = _records(MAX_RECORDS + 20)
    assert emu.subscriptions.publish("sp-traffic", records, envelope=True) == len(records)

    objects = _objects(s3)
    assert len(objects) == 2  # two PutRecordBatch calls: 500 and 20 records
    assert all(key.startswith(PREFIX) for key in objects)  # the expressions are not evaluated
    assert all(f"/{NAME}-" in key and not key.endswith(".json.gz") for key in objects)
    data = b"".join(sorted(objects.values(), key=len, reverse=True))
    assert data == b"".join(json.dumps(r).encode() for r in records)  # bare, no newline, not gzipped


def test_without_a_firehose_client_a_firehose_subscription_gets_nothing(aws: Any) -> None:
    s3, sqs, _, arn = aws
    emu = Emulator(sqs_client_for=lambda r: sqs)
    _subscribe(emu, arn)
    assert emu.subscriptions.publish("sp-traffic", _records(3)) == 0
    assert _objects(s3) == {}


class FailingFirehose:
    """Answers the first ``failures[n]`` entries of its n-th call with an ErrorCode, passing the others to moto."""

    def __init__(self, client: Any, *failures: int) -> None:
        self.client, self.failures = client, failures
        self.calls: list[int] = []

    def put_record_batch(self, *, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> Any:
        self.calls.append(len(Records))
        failing = self.failures[len(self.calls) - 1] if len(self.calls) <= len(self.failures) else 0
        failed, passed = Records[:failing], Records[failing:]
        if passed:
            self.client.put_record_batch(DeliveryStreamName=DeliveryStreamName, Records=passed)
        responses = [{"ErrorCode": "ServiceUnavailableException"}] * len(failed) + [{"RecordId": "x"}] * len(passed)
        return {"FailedPutCount": len(failed), "RequestResponses": responses}


def test_failed_entries_are_resent_then_reported(aws: Any) -> None:
    s3, _, firehose, arn = aws
    flaky = FailingFirehose(firehose, 2, 1)
    FirehoseDelivery(lambda r: flaky).put(arn, [b"a", b"b", b"c"])
    assert flaky.calls == [3, 2, 1]  # each attempt resends only the entries that failed
    assert sorted(_objects(s3).values()) == [b"a", b"b", b"c"]
    broken = FailingFirehose(firehose, 3, 3, 2)
    with pytest.raises(DeliveryError, match="2 record") as raised:
        FirehoseDelivery(lambda r: broken).put(arn, [b"x", b"y", b"z"])
    assert raised.value.undelivered == 2 and broken.calls == [3, 3, 3]
