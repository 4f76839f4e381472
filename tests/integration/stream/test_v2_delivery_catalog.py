"""From the emulator's v2 delivery to the views, in moto: every notification the emulator sends is catalogued by
the v2 catalog handler (partitions and the grown column in Glue), and DuckDB over the registered partitions with
Glue's columns (``duck.v2_catalog``, the demo's Athena) gives exactly the delivery's truth."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
from tests.integration.stream.lambda_event import sqs_record

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "stream-v2-catalog")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "adsbridge")

from adsbridge.ads import AdsSession, TokenProvider
from adsbridge.ads.streams_v2 import StreamsV2Client
from adsbridge.stream.handlers import v2_catalog as handler
from adsbridge.stream.v2 import amazon
from adsbridge.stream.v2.table import table_input
from adsbridge_sandbox import stream_v2_files as files
from adsbridge_sandbox.duck import download, v2_catalog
from adsbridge_sandbox.emulator import Emulator
from adsbridge_sandbox.emulator.stream_v2_delivery import V2Delivery
from adsbridge_sandbox.local_lambda import LocalContext

ACCOUNT = "amzn1.ads-account.g.akzidxc3q1tgxm4lfb3h4j8ij"
BUCKET = "adsbridge-v2-data"
DATABASE = "adsbridge_stream_v2_na"
TABLE = amazon.table_name(files.DATASET)
PLAN = files.Plan(advertisers=2, campaigns=2, ads=2, products=(amazon.SPONSORED_PRODUCTS, "DSP"))


@pytest.fixture
def aws(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, Any]]:
    monkeypatch.setenv("DATABASE", DATABASE)
    handler._clients.cache_clear()
    s3, sqs, glue = boto3.client("s3"), boto3.client("sqs"), boto3.client("glue")
    s3.create_bucket(Bucket=BUCKET)
    glue.create_database(DatabaseInput={"Name": DATABASE})
    glue.create_table(DatabaseName=DATABASE, TableInput=table_input(files.DATASET, BUCKET))
    yield s3, sqs, glue
    handler._clients.cache_clear()


def _deliver(s3: Any, sqs: Any) -> tuple[files.Delivery, list[dict[str, Any]]]:
    """A subscription through the emulator; the delivery and the queue's messages."""
    url = sqs.create_queue(QueueName="adsbridge-v2-notifications")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    now = datetime(2026, 12, 6, 10, tzinfo=UTC)
    delivery = V2Delivery(lambda r: s3, lambda r: sqs, plan=PLAN, history_days=1, live_hours=3, clock=lambda: now)
    with Emulator(sqs_client_for=lambda r: sqs, v2_delivery=delivery) as emu:
        client = StreamsV2Client(AdsSession(emu.url, TokenProvider(emu.credentials.lwa(), emu.token_url)))
        sub = client.create(ACCOUNT, files.DATASET, f"arn:aws:s3:::{BUCKET}", arn)
        delivered = emu.subscriptions_v2.delivered(sub.subscription_id, timeout=60)
    records = []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        records += [sqs_record(m["MessageId"], m["Body"], arn, 0) for m in got]
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
        )
    return delivered, records


def test_every_notification_is_catalogued_and_the_views_equal_the_truth(aws: Any, tmp_path: Path) -> None:
    s3, sqs, glue = aws
    delivery, records = _deliver(s3, sqs)
    assert len(records) == len(delivery.files) == 24 + 3 + 2
    response = handler.lambda_handler({"Records": records}, LocalContext())  # type: ignore[arg-type]
    assert response["batchItemFailures"] == []

    table = glue.get_table(DatabaseName=DATABASE, Name=TABLE)["Table"]
    assert {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]} == {
        **dict(amazon.table_columns()),
        **files.GROWN,
    }
    found = glue.get_partitions(DatabaseName=DATABASE, TableName=TABLE)["Partitions"]
    hours = {(f.hour.strftime("%Y-%m-%d"), f.hour.strftime("%H")) for f in delivery.files}
    assert sorted(tuple(p["Values"]) for p in found) == sorted(hours) and len(hours) == 24 + 3

    storage = dict(table["StorageDescriptor"])  # a column Glue keeps that no file has (one Amazon removed)
    storage["Columns"] = [*storage["Columns"], {"Name": "retired", "Type": "bigint"}]
    kept = {k: table[k] for k in ("Name", "TableType", "Parameters", "PartitionKeys")}
    glue.update_table(DatabaseName=DATABASE, TableInput={**kept, "StorageDescriptor": storage})
    con = duckdb.connect()
    v2_catalog(con, download(s3, BUCKET, tmp_path), glue, DATABASE, files.DATASET)

    width, metrics = len(amazon.DIMENSIONS), ", ".join(amazon.METRICS)
    latest = con.execute(f"SELECT {', '.join(amazon.DIMENSIONS)}, {metrics} FROM {DATABASE}.{TABLE}_latest")
    assert {r[:width]: dict(zip(amazon.METRICS, r[width:], strict=True)) for r in latest.fetchall()} == delivery.truth()
    group, sums = ", ".join(files.HOURLY_GROUP), [*amazon.METRICS, "records"]
    hourly = con.execute(f"SELECT {group}, dt, hour, {metrics}, records FROM {DATABASE}.{TABLE}_hourly").fetchall()
    assert {r[:5]: dict(zip(sums, r[5:], strict=True)) for r in hourly} == delivery.hourly_truth()
    grown_rows = len(PLAN.records(delivery.files[0].hour))  # only the grown file has its column
    counts = con.execute(f"SELECT count(retired), count(detailpageviews) FROM {DATABASE}.{TABLE}").fetchone()
    assert counts == (0, grown_rows)
