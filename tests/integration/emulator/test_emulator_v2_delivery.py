"""The emulator's Stream v2 delivery into moto: a subscription created with the real client gets the initial
history, hourly files (one with a grown schema) and a restated hour, each file in its bucket under amazon.py's key
layout with one notification in its queue; archiving stops it; a missing bucket is reported."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from adsbridge.ads import AdsSession, TokenProvider
from adsbridge.ads.streams_v2 import StreamsV2Client
from adsbridge.stream.v2 import amazon
from adsbridge_sandbox import stream_v2_files as files
from adsbridge_sandbox.emulator import Emulator
from adsbridge_sandbox.emulator.stream_v2_delivery import V2Delivery

ACCOUNT = "amzn1.ads-account.g.akzidxc3q1tgxm4lfb3h4j8ij"
BUCKET = "adsbridge-v2-123456789012-us-east-1-data"
NOW = datetime(2026, 12, 6, 10, 20, tzinfo=UTC)
PLAN = files.Plan(advertisers=1, campaigns=2, ads=2)


@pytest.fixture
def aws() -> Iterator[tuple[Any, Any, str]]:
    with mock_aws():
        s3, sqs = boto3.client("s3", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        url = sqs.create_queue(QueueName="adsbridge-v2-notifications")["QueueUrl"]
        yield s3, sqs, url


def _delivery(sqs: Any, s3: Any, history_days: int = 1) -> V2Delivery:
    return V2Delivery(lambda r: s3, lambda r: sqs, plan=PLAN, history_days=history_days, seed=3, clock=lambda: NOW)


def _queue_arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def _drain(sqs: Any, url: str) -> list[str]:
    bodies: list[str] = []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        bodies += [m["Body"] for m in got]
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
        sqs.delete_message_batch(QueueUrl=url, Entries=entries)
    return bodies


def _client(emu: Emulator) -> StreamsV2Client:
    return StreamsV2Client(AdsSession(emu.url, TokenProvider(emu.credentials.lwa(), emu.token_url)))


def test_an_active_subscription_gets_history_hours_a_grown_file_and_a_restated_hour(aws: Any) -> None:
    s3, sqs, url = aws
    with Emulator(sqs_client_for=lambda r: sqs, v2_delivery=_delivery(sqs, s3)) as emu:
        sub = _client(emu).create(ACCOUNT, files.DATASET, f"arn:aws:s3:::{BUCKET}", _queue_arn(sqs, url))
        assert sub.status == "ACTIVE"
        delivered = emu.subscriptions_v2.delivered(sub.subscription_id, timeout=60)

    assert [f.version for f in delivered.files] == [1] * (24 + 2) + [3, 2]  # the newer restatement lands first
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert sorted(keys) == sorted(f.key for f in delivered.files)
    assert keys[0] == "amzn/ads-performance-v1/2026-12-05/10/part-v001.parquet"  # 24 hours before NOW's hour
    landed = [f for body in _drain(sqs, url) for f in amazon.landed_files(body)]
    assert sorted(f.key for f in landed) == sorted(keys) and {f.bucket for f in landed} == {BUCKET}
    restated = [f for f in delivered.files if f.version > 1]
    assert {f.partition for f in landed if f.key in {r.key for r in restated}} == {("2026-12-06", "10")}

    grown = next(f for f in delivered.files if f.extra)
    body = s3.get_object(Bucket=BUCKET, Key=grown.key)["Body"].read()
    assert set(pq.read_schema(io.BytesIO(body)).names) == {c for c, _ in amazon.table_columns()} | set(files.GROWN)


def test_archiving_stops_the_delivery_before_its_next_file(aws: Any) -> None:
    s3, sqs, url = aws
    checks = iter([True, True, True, False])
    destination = {"bucketArn": f"arn:aws:s3:::{BUCKET}", "notification": {"queueArn": _queue_arn(sqs, url)}}
    delivered = _delivery(sqs, s3).deliver(destination, lambda: next(checks))
    assert len(delivered.files) == 3
    assert s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 3 and len(_drain(sqs, url)) == 3


def test_a_subscription_archived_through_the_api_is_no_longer_active_for_its_delivery(aws: Any) -> None:
    s3, sqs, url = aws
    with Emulator(sqs_client_for=lambda r: sqs, v2_delivery=_delivery(sqs, s3, history_days=70)) as emu:
        client = _client(emu)
        sub = client.create(ACCOUNT, files.DATASET, f"arn:aws:s3:::{BUCKET}", _queue_arn(sqs, url))
        client.delete(ACCOUNT, [sub.subscription_id])
        delivered = emu.subscriptions_v2.delivered(sub.subscription_id, timeout=60)
    assert len(delivered.files) < 70 * 24  # stopped part-way through the history
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == len(delivered.files)


def test_a_missing_bucket_ends_the_delivery_with_its_error(aws: Any) -> None:
    s3, sqs, url = aws
    with Emulator(sqs_client_for=lambda r: sqs, v2_delivery=_delivery(sqs, s3)) as emu:
        sub = _client(emu).create(ACCOUNT, files.DATASET, "arn:aws:s3:::no-such-bucket", _queue_arn(sqs, url))
        with pytest.raises(Exception, match="NoSuchBucket"):
            emu.subscriptions_v2.delivered(sub.subscription_id, timeout=60)
    assert _drain(sqs, url) == []  # no notification for a file that did not land
