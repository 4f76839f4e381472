"""Stream in: the realm's queues and raw bucket in moto, a realistic stream into them, the ingest handler
fed by a local poller as Lambda's event source mapping would, then the views' own SQL in DuckDB.

``deliver`` is the seam where Amazon's side plugs in: today the synthetic stream is sent to the queues
directly; with the emulator's Marketing Stream subscriptions (issue #6) the emulator will confirm each
subscription through the queue (the handler confirms it) and publish the same stream itself.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import duckdb

from adsbridge.demo.local_aws import LocalCloud
from adsbridge.demo.progress import Progress
from adsbridge.stream import datasets, synthetic
from adsbridge.stream.datasets import Dataset, Realm
from adsbridge.stream.duck import catalog, download, hourly
from adsbridge.stream.redrive import DLQ_SUFFIX

REALM = Realm.NA
QUEUE_PREFIX = datasets.DEFAULT_QUEUE_PREFIX
MAX_RECEIVE_COUNT = "5"  # as StreamStack's DLQ redrive
BUCKET = "adsbridge-demo-stream-raw"
DATABASE = "ams"
STREAMED = ("sp-traffic", "sp-conversion", "sd-traffic", "budget-usage", "campaigns")
START = datetime(2024, 3, 1, tzinfo=UTC)
LAMBDA_BATCH = 1000  # records per handler invocation (the stack allows up to 10,000 within a 60 s window)
SEED = 20240301


@dataclass(frozen=True)
class StreamResult:
    stream: synthetic.Stream
    con: duckdb.DuckDBPyConnection
    failed: int  # messages the handler reported as batchItemFailures (redelivered by the poller)


Deliver = Callable[[LocalCloud, dict[str, str], list[synthetic.Delivery], Progress], None]


def provision(cloud: LocalCloud) -> dict[str, str]:
    """Every dataset's queue with its DLQ, named as StreamStack names them, and the raw bucket; id → queue URL."""
    sqs = cloud.client("sqs")
    urls: dict[str, str] = {}
    for dataset_id in datasets.catalogue():
        name = f"{QUEUE_PREFIX}{dataset_id}"
        dlq = sqs.create_queue(QueueName=f"{name}{DLQ_SUFFIX}")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT})
        urls[dataset_id] = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    cloud.client("s3").create_bucket(Bucket=BUCKET)
    return urls


def send_synthetic(
    cloud: LocalCloud, urls: dict[str, str], deliveries: list[synthetic.Delivery], progress: Progress
) -> None:
    """Amazon's SNS delivery, played directly: each message into its dataset's queue, ten per call."""
    sqs = cloud.client("sqs")
    by_queue: dict[str, list[str]] = {}
    for delivery in deliveries:
        by_queue.setdefault(delivery.dataset_id, []).append(delivery.body)
    sent = 0
    for dataset_id, bodies in by_queue.items():
        for start in range(0, len(bodies), 10):
            entries = [{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[start : start + 10])]
            sqs.send_message_batch(QueueUrl=urls[dataset_id], Entries=entries)
            sent += len(entries)
            progress.bar("delivered", sent, len(deliveries))


def run_stream(
    cloud: LocalCloud, workdir: Path, messages: int, progress: Progress, deliver: Deliver = send_synthetic
) -> StreamResult:
    chosen = [datasets.get(d) for d in STREAMED]
    progress.step(f"Provisioning the {REALM} realm's {len(datasets.catalogue())} queues (+DLQs) and raw bucket")
    urls = provision(cloud)
    stream = synthetic.generate(random.Random(SEED), messages, chosen, start=START)
    progress.step(f"Delivering {messages:,} messages over 48 hours ({', '.join(STREAMED)})")
    deliver(cloud, urls, stream.deliveries, progress)
    progress.step("Ingest handler polling the queues in SQS batches")
    failed = poll(cloud, urls, len(stream.deliveries), progress)
    progress.step("DuckDB over the raw bucket with the Athena views' SQL")
    raw = download(cloud.client("s3"), BUCKET, workdir / "stream-raw")
    return StreamResult(stream, catalog(raw, DATABASE, chosen), failed)


def poll(cloud: LocalCloud, urls: dict[str, str], expected: int, progress: Progress) -> int:
    """The event source mapping: receive up to a batch, invoke, delete all but ``batchItemFailures``."""
    from adsbridge.stream import handler  # after local_cloud set Powertools' variables, as Lambda's are at import

    sqs = cloud.client("sqs")
    handler._s3.cache_clear()  # the handler's clients must be built against moto's endpoint
    handler._sns.cache_clear()
    env = {"BUCKET": BUCKET, "REALM": REALM.value, "QUEUE_PREFIX": QUEUE_PREFIX}
    arn_of = {
        d: sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for d, u in urls.items()
    }
    ingested = failed = 0
    os.environ.update(env)  # the ingest function's own variables; local_cloud restores the environment
    for dataset_id, url in urls.items():
        for batch in _batches(sqs, url):
            failures = _invoke(handler.lambda_handler, [_record(m, arn_of[dataset_id]) for m in batch])
            failed += len(failures)
            done = [m for m in batch if m["MessageId"] not in failures]
            for start in range(0, len(done), 10):
                entries = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start : start + 10])
                ]
                sqs.delete_message_batch(QueueUrl=url, Entries=entries)
            ingested += len(done)
            progress.bar("ingested", min(ingested, expected), expected)
    return failed


def _batches(sqs: Any, url: str) -> Iterator[list[dict[str, Any]]]:
    while True:
        batch: list[dict[str, Any]] = []
        while len(batch) < LAMBDA_BATCH:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
            if not got:
                break
            batch += got
        if not batch:
            return
        yield batch


def _record(message: dict[str, Any], arn: str) -> dict[str, Any]:
    """One record of Lambda's SQS event, as the event source mapping builds it."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message["Attributes"],
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": REALM.region,
    }


def _invoke(lambda_handler: Callable[..., dict[str, Any]], records: list[dict[str, Any]]) -> set[str]:
    """The handler on one batch; its EMF metrics go to CloudWatch in Lambda and are dropped here."""
    with redirect_stdout(StringIO()):
        response = lambda_handler({"Records": records}, _Context())
    return {item["itemIdentifier"] for item in response["batchItemFailures"]}


@dataclass
class _Context:
    function_name: str = "adsbridge-demo-ingest"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:adsbridge-demo-ingest"
    aws_request_id: str = "demo"


def performance_rows(con: duckdb.DuckDBPyConnection, limit: int) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The busiest hours of the de-duplicated SP performance view (traffic joined with conversions)."""
    cursor = con.execute(
        f"SELECT dt, hour, campaign_id, sum(impressions), sum(clicks), sum(cost), sum(attributed_sales_7d) "
        f"FROM {DATABASE}.sp_performance_hourly GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1, 2, 3 LIMIT {limit}"
    )
    return ["dt", "hour", "campaign", "impressions", "clicks", "cost", "sales_7d"], cursor.fetchall()


def campaign_states(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = con.execute(f"SELECT campaignid, state FROM {DATABASE}.campaigns_latest ORDER BY 1").fetchall()
    return dict(rows)


def hourly_matches_truth(result: StreamResult, dataset: Dataset) -> bool:
    return hourly(result.con, DATABASE, dataset) == result.stream.hourly_truth(dataset)
