"""Stream in: the realm's queues and raw bucket in moto (with StreamStack's settings, ``stream.queues``),
Marketing Stream subscriptions to them, a realistic stream published into them, the ingest handler fed as it
arrives by a local poller as Lambda's event source mapping would, then the views' own SQL in DuckDB.

Amazon's side is the emulator: the demo subscribes each streamed dataset's queue for a demo profile with
the real ``StreamsClient``; the emulator puts a ``SubscriptionConfirmation`` in the queue, the ingest
handler confirms it (its SNS client is the emulator's stand-in, ``emulator.sns``), and once every
subscription is ACTIVE the emulator publishes the synthetic stream to them, raw or in SNS envelopes as the
generator chose. At the end the subscriptions are archived. ``deliver`` is the seam for the publishing.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import duckdb

from adsbridge.ads import AdsSession, Owner, StreamsClient, TokenProvider
from adsbridge.stream import datasets
from adsbridge.stream.datasets import Dataset, Realm
from adsbridge.stream.queues import QueueSettings, amazon_policy
from adsbridge_sandbox import synthetic
from adsbridge_sandbox.demo.local_aws import LocalCloud
from adsbridge_sandbox.demo.progress import Progress
from adsbridge_sandbox.duck import catalog, download, hourly
from adsbridge_sandbox.local_lambda import LocalContext

REALM = Realm.NA
QUEUES = QueueSettings()  # StreamStack's queues with StreamConfig's defaults (ingest timeout, queue prefix)
QUEUE_PREFIX = QUEUES.prefix
BUCKET = "adsbridge-demo-stream-raw"
DATABASE = "ams"
STREAMED = ("sp-traffic", "sp-conversion", "sd-traffic", "budget-usage", "campaigns")
PROFILE = Owner("3519471835403213")  # the demo advertiser's profile, whose stream is subscribed
START = datetime(2024, 3, 1, tzinfo=UTC)
LAMBDA_BATCH = 1000  # records per handler invocation (the stack allows up to 10,000 within a 60 s window)
# Messages the emulator publishes between two polls. moto's SQS costs O(queue depth) per message sent or
# received (it recounts the queue for every message's retention check), so the poller keeps up as Lambda's
# event source would instead of letting the whole stream pile up: the demo's time grows linearly with messages.
POLL_EVERY = 100
SEED = 20240301

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class SubscriptionTrail:
    """One subscription's statuses as the Ads API reported them: created, after confirmation, after archive."""

    dataset_id: str
    subscription_id: str
    statuses: tuple[str, ...]


@dataclass(frozen=True)
class StreamResult:
    stream: synthetic.Stream
    con: duckdb.DuckDBPyConnection
    failed: int  # messages the handler reported as batchItemFailures (redelivered by the poller)
    subscriptions: tuple[SubscriptionTrail, ...] = ()


class StreamFailure(RuntimeError):
    """A Stream-in step ended in a state the demo cannot go on from; the message says which and why."""


Deliver = Callable[[LocalCloud, dict[str, str], list[synthetic.Delivery], Progress], int]


def provision(cloud: LocalCloud) -> dict[str, str]:
    """Every dataset's queue and DLQ as StreamStack deploys them, and the raw bucket; id → queue URL.

    Names, retention, long polling, visibility, redrive and Amazon's queue policy all come from
    ``stream.queues``, as the stack's do.
    """
    sqs = cloud.client("sqs")
    urls: dict[str, str] = {}
    for dataset_id, dataset in datasets.catalogue().items():
        dlq = sqs.create_queue(QueueName=QUEUES.dlq_name(dataset_id), Attributes=QUEUES.dlq_attributes())["QueueUrl"]
        url = sqs.create_queue(QueueName=QUEUES.name(dataset_id), Attributes=QUEUES.queue_attributes(_arn(sqs, dlq)))
        policy = amazon_policy(dataset, REALM, _arn(sqs, url["QueueUrl"]))
        sqs.set_queue_attributes(QueueUrl=url["QueueUrl"], Attributes={"Policy": policy})
        urls[dataset_id] = url["QueueUrl"]
    cloud.client("s3").create_bucket(Bucket=BUCKET)
    return urls


def _arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def streams_client(cloud: LocalCloud) -> StreamsClient:
    """The real Marketing Stream subscriptions client, signed in to the emulator's sandbox account."""
    tokens = TokenProvider(cloud.emulator.credentials.lwa(), cloud.emulator.token_url)
    return StreamsClient(AdsSession(cloud.emulator.url, tokens))


def publish_from_emulator(
    cloud: LocalCloud, urls: dict[str, str], deliveries: list[synthetic.Delivery], progress: Progress
) -> int:
    """Amazon's SNS delivery, played by the emulator: each dataset's messages to its ACTIVE subscriptions.

    Raw messages are published raw and enveloped ones in SNS Notifications, as generated: one ``publish`` for
    each dataset's raw ones and one for its enveloped ones, each in order (the emulator batches its sends). A
    Standard queue does not keep order anyway, and nothing downstream depends on it.
    """
    groups: dict[tuple[str, bool], list[dict[str, Any]]] = {}
    for delivery in deliveries:
        record, envelope = _unwrap(delivery.body)
        groups.setdefault((delivery.dataset_id, envelope), []).append(record)
    published = 0
    for (dataset_id, envelope), records in groups.items():
        published += cloud.emulator.subscriptions.publish(dataset_id, records, envelope=envelope)
        progress.bar("published", published, len(deliveries))
    return published


def _unwrap(body: str) -> tuple[dict[str, Any], bool]:
    """The Amazon record in a generated message body, and whether it came in an SNS envelope."""
    parsed = json.loads(body)
    if parsed.get("Type") == "Notification" and isinstance(parsed.get("Message"), str):
        return json.loads(parsed["Message"]), True
    return parsed, False


def run_stream(
    cloud: LocalCloud, workdir: Path, messages: int, progress: Progress, deliver: Deliver = publish_from_emulator
) -> StreamResult:
    from adsbridge.stream.handlers import (
        ingest as handler,  # after local_cloud set Powertools' variables, as Lambda's are at import
    )

    chosen = [datasets.get(d) for d in STREAMED]
    progress.step(f"Provisioning the {REALM} realm's {len(datasets.catalogue())} queues (+DLQs) and raw bucket")
    urls = provision(cloud)
    handler._s3.cache_clear()  # the handler's clients must be built against moto's endpoint
    ingest = handler.make_handler(sns_client_for=lambda region: cloud.emulator.sns)
    streams = streams_client(cloud)
    arns = queue_arns(cloud, urls)

    progress.step(f"Subscribing profile {PROFILE.id} to {len(STREAMED)} datasets with the Marketing Stream API")
    ids = {d: streams.create(PROFILE, d, arns[d], notes="adsbridge demo") for d in STREAMED}
    trail = {d: [streams.get(PROFILE, sid).status] for d, sid in ids.items()}
    progress.step(f"subscribed {len(ids)}: each queue got a SubscriptionConfirmation from the emulator")

    progress.step("Ingest handler polling the queues: it checks each topic is Amazon's and confirms it")
    failed = poll(cloud, urls, arns, len(ids), progress, ingest, label="confirmations")
    for d, sid in ids.items():
        trail[d].append(streams.get(PROFILE, sid).status)
    pending = sorted(d for d in ids if trail[d][-1] != "ACTIVE")
    if pending:
        raise StreamFailure(f"subscriptions not ACTIVE after confirmation: {', '.join(pending)}")
    progress.step(f"confirmed {len(ids)}: every subscription ACTIVE")

    stream = synthetic.generate(random.Random(SEED), messages, chosen, start=START)
    progress.step(
        f"The emulator publishing {messages:,} messages of 48 hours in order ({', '.join(STREAMED)}), "
        f"the ingest handler polling the queues in SQS batches every {POLL_EVERY} messages"
    )
    published, quiet = 0, Progress(StringIO())
    for start in range(0, len(stream.deliveries), POLL_EVERY):
        chunk = stream.deliveries[start : start + POLL_EVERY]
        sent = deliver(cloud, urls, chunk, quiet)
        if sent != len(chunk):
            raise StreamFailure(f"published {sent:,} of {len(chunk):,} messages from message {start:,} on")
        published += sent
        sent_to = Counter(m.dataset_id for m in chunk)
        failed += poll(cloud, {d: urls[d] for d in sent_to}, arns, sent, quiet, ingest, sent_to=sent_to)
        progress.bar("published and ingested", published, len(stream.deliveries))
    progress.step(f"published and ingested {published:,}")

    for d, sid in ids.items():
        streams.archive(PROFILE, sid, notes="adsbridge demo done")
        trail[d].append(streams.get(PROFILE, sid).status)
    progress.step(f"archived {sum(t[-1] == 'ARCHIVED' for t in trail.values())} subscriptions")

    progress.step("DuckDB over the raw bucket with the Athena views' SQL")
    raw = download(cloud.client("s3"), BUCKET, workdir / "stream-raw")
    trails = tuple(SubscriptionTrail(d, ids[d], tuple(trail[d])) for d in STREAMED)
    return StreamResult(stream, catalog(raw, DATABASE, chosen), failed, trails)


def queue_arns(cloud: LocalCloud, urls: dict[str, str]) -> dict[str, str]:
    sqs = cloud.client("sqs")
    return {d: _arn(sqs, u) for d, u in urls.items()}


def poll(
    cloud: LocalCloud,
    urls: dict[str, str],
    arns: dict[str, str],
    expected: int,
    progress: Progress,
    ingest: Handler,
    *,
    label: str = "ingested",
    env: Mapping[str, str] | None = None,
    sent_to: Mapping[str, int] | None = None,
) -> int:
    """The event source mapping: receive up to a batch, invoke, delete all but ``batchItemFailures``.

    ``env`` is the function's own environment, by default the ingest function's. ``sent_to`` (dataset id →
    messages just published to its queue) lets a queue's pass end once that many are received, sparing the
    empty receive that otherwise proves it drained: one request per queue per poll, each a full pass of
    moto's HTTP server.
    """
    sqs = cloud.client("sqs")
    ingested = failed = 0
    # the function's own variables; local_cloud restores the environment
    os.environ.update(env or {"BUCKET": BUCKET, "REALM": REALM.value, "QUEUE_PREFIX": QUEUE_PREFIX})
    for dataset_id, url in urls.items():
        for batch in _batches(sqs, url, (sent_to or {}).get(dataset_id)):
            failures = _invoke(ingest, [_record(m, arns[dataset_id]) for m in batch])
            failed += len(failures)
            done = [m for m in batch if m["MessageId"] not in failures]
            for start in range(0, len(done), 10):
                entries = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start : start + 10])
                ]
                sqs.delete_message_batch(QueueUrl=url, Entries=entries)
            ingested += len(done)
            progress.bar(label, min(ingested, expected), expected)
    return failed


def _batches(sqs: Any, url: str, expected: int | None = None) -> Iterator[list[dict[str, Any]]]:
    """Up to ``LAMBDA_BATCH`` messages at a time until the queue is drained; one empty receive ends the pass,
    as does having received ``expected`` messages when the caller knows how many are there.

    ``WaitTimeSeconds=0``: the queue long-polls (20 s) like the stack's, but the poller knows when it is drained.
    """
    limit = float("inf") if expected is None else expected
    received, empty = 0, False
    while not empty and received < limit:
        batch: list[dict[str, Any]] = []
        while len(batch) < LAMBDA_BATCH and received + len(batch) < limit:
            got = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
            ).get("Messages", [])
            if not got:
                empty = True
                break
            batch += got
        received += len(batch)
        if batch:
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
        "awsRegion": REALM.aws_region,
    }


def _invoke(lambda_handler: Callable[..., dict[str, Any]], records: list[dict[str, Any]]) -> set[str]:
    """The handler on one batch; its EMF metrics go to CloudWatch in Lambda and are dropped here."""
    with redirect_stdout(StringIO()):
        response = lambda_handler({"Records": records}, LocalContext("adsbridge-demo-ingest"))
    return {item["itemIdentifier"] for item in response["batchItemFailures"]}


def performance_rows(con: duckdb.DuckDBPyConnection, limit: int) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The busiest hours of the de-duplicated SP performance view (traffic joined with conversions)."""
    # An hour without conversions has NULL conversion measures (the view's LEFT JOIN): no sales is 0 sales.
    cursor = con.execute(
        f"SELECT dt, hour, campaign_id, sum(impressions), sum(clicks), sum(cost), "
        f"coalesce(sum(attributed_sales_7d), 0) "
        f"FROM {DATABASE}.sp_performance_hourly GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1, 2, 3 LIMIT {limit}"
    )
    return ["dt", "hour", "campaign", "impressions", "clicks", "cost", "sales_7d"], cursor.fetchall()


def campaign_states(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = con.execute(f"SELECT campaignid, state FROM {DATABASE}.campaigns_latest ORDER BY 1").fetchall()
    return dict(rows)


def budget_usage(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, ...], tuple[float, float, str]]:
    """Budget scope (advertiser, marketplace, scope type, scope id) → (budget, usage %, updated at), from the
    budget-usage "latest" view: each scope's newest usage."""
    dataset = datasets.get("budget-usage")
    keys = ", ".join(dataset.keys)
    rows = con.execute(
        f"SELECT {keys}, budget, budget_usage_percentage, usage_updated_timestamp "
        f"FROM {DATABASE}.{dataset.table}_latest ORDER BY {keys}"
    ).fetchall()
    return {tuple(row[: len(dataset.keys)]): tuple(row[len(dataset.keys) :]) for row in rows}


def hourly_matches_truth(result: StreamResult, dataset: Dataset) -> bool:
    return hourly(result.con, DATABASE, dataset) == result.stream.hourly_truth(dataset)
