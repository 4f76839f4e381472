"""Stream v2 in: a landing bucket, notification queue and Glue table in moto, a v2 subscription to them, the
emulator delivering Parquet files and notifications as Amazon would, the v2 catalog handler fed by a local poller
as Lambda's event source mapping would, then the v2 views' own SQL in DuckDB over the catalogued files.

Amazon's side is the emulator (``emulator.stream_v2_delivery``): on subscribing it sends ``HISTORY_DAYS`` of
history (Amazon sends 70), ``LIVE_HOURS`` hourly files, the last with a column the table lacks, and the first live
hour restated twice with the newer version landing first. The demo's bucket and queue are plain ones: the landing
stack's keys and policies (infra/stream/v2_landing.py) are for Amazon's roles, which do not exist here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb

from adsbridge.ads import AdsSession, TokenProvider
from adsbridge.ads.streams_v2 import StreamsV2Client
from adsbridge.stream.v2 import amazon
from adsbridge.stream.v2.table import table_input
from adsbridge_sandbox import stream_v2_files as files
from adsbridge_sandbox.demo.local_aws import LocalCloud
from adsbridge_sandbox.demo.progress import Progress
from adsbridge_sandbox.demo.stream_in import START, poll
from adsbridge_sandbox.duck import download, v2_catalog

ACCOUNT = "amzn1.ads-account.g.adsbridgedemo"  # the demo advertiser account, whose v2 stream is subscribed
BUCKET = "adsbridge-demo-v2-data"
QUEUE = "adsbridge-demo-v2-notifications"
DATABASE = "ams_v2"  # the Glue database, and the DuckDB schema standing in for it
HISTORY_DAYS = 2
LIVE_HOURS = 2
PLAN = files.Plan(advertisers=2, campaigns=3, ads=2)
NOW = START + timedelta(days=HISTORY_DAYS)  # v2's history covers the hours of v1's synthetic stream
OPTIONS = {"plan": PLAN, "history_days": HISTORY_DAYS, "live_hours": LIVE_HOURS, "clock": lambda: NOW}


@dataclass(frozen=True)
class V2Result:
    delivery: files.Delivery  # the files in arrival order, and the truth
    con: duckdb.DuckDBPyConnection
    failed: int  # notifications the catalog handler reported as batchItemFailures
    partitions: int  # registered in Glue
    added_columns: tuple[str, ...]  # what the catalog added to the table from the files' footers
    statuses: tuple[str, ...]  # the subscription's: created, after archive


def provision(cloud: LocalCloud) -> str:
    """The landing bucket, notification queue and the dataset's Glue table; the queue's URL."""
    cloud.client("s3").create_bucket(Bucket=BUCKET)
    url: str = cloud.client("sqs").create_queue(QueueName=QUEUE)["QueueUrl"]
    glue = cloud.client("glue")
    glue.create_database(DatabaseInput={"Name": DATABASE})
    glue.create_table(DatabaseName=DATABASE, TableInput=table_input(files.DATASET, BUCKET))
    return url


def run_stream_v2(
    cloud: LocalCloud, workdir: Path, progress: Progress, con: duckdb.DuckDBPyConnection | None = None
) -> V2Result:
    """``con``: v1's DuckDB, to create the v2 views beside v1's (a new one when v1 did not run)."""
    from adsbridge.stream.handlers import v2_catalog as handler  # after local_cloud set Powertools' variables

    progress.step(f"Provisioning the v2 landing bucket, notification queue and Glue table {DATABASE}")
    url = provision(cloud)
    handler._clients.cache_clear()  # the handler's clients must be built against moto's endpoint
    sqs, glue = cloud.client("sqs"), cloud.client("glue")
    arn = str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
    before = {c["Name"] for c in _columns(glue)}
    tokens = TokenProvider(cloud.emulator.credentials.lwa(), cloud.emulator.token_url)
    client = StreamsV2Client(AdsSession(cloud.emulator.url, tokens))

    progress.step(f"Subscribing account {ACCOUNT} to {files.DATASET} with the Marketing Stream v2 API")
    sub = client.create(ACCOUNT, files.DATASET, f"arn:aws:s3:::{BUCKET}", arn)
    statuses = [sub.status]
    delivery = cloud.emulator.subscriptions_v2.delivered(sub.subscription_id)
    progress.step(
        f"The emulator wrote {len(delivery.files)} Parquet files ({HISTORY_DAYS} days of history, {LIVE_HOURS} live "
        "hours, one restated hour twice) and one notification each; the v2 catalog handler polling the queue"
    )
    failed = poll(
        cloud, {QUEUE: url}, {QUEUE: arn}, len(delivery.files), progress, handler.lambda_handler,
        label="catalogued", env={"DATABASE": DATABASE},
    )  # fmt: skip
    client.delete(ACCOUNT, [sub.subscription_id])
    statuses.append(next(s.status for s in client.query(ACCOUNT) if s.subscription_id == sub.subscription_id))

    progress.step("DuckDB over the catalogued Parquet files with the v2 views' SQL")
    root = download(cloud.client("s3"), BUCKET, workdir / "stream-v2")
    con = con or duckdb.connect()
    v2_catalog(con, root, glue, DATABASE, files.DATASET)
    partitions = sum(len(p["Partitions"]) for p in glue.get_paginator("get_partitions").paginate(
        DatabaseName=DATABASE, TableName=amazon.table_name(files.DATASET)))  # fmt: skip
    added = tuple(c["Name"] for c in _columns(glue) if c["Name"] not in before)
    return V2Result(delivery, con, failed, partitions, added, tuple(statuses))


def _columns(glue: Any) -> list[dict[str, str]]:
    table = glue.get_table(DatabaseName=DATABASE, Name=amazon.table_name(files.DATASET))["Table"]
    columns: list[dict[str, str]] = table["StorageDescriptor"]["Columns"]
    return columns


def restated_hour(result: V2Result) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The restated hour per advertiser and campaign: clicks as first delivered, in the file that arrived last,
    and in the hourly view (the highest version), beside the truth."""
    restated = [f for f in result.delivery.files if f.version > 1]
    hour = restated[0].hour
    first = next(f for f in result.delivery.files if f.hour == hour and f.version == 1)
    dt, hh = hour.strftime("%Y-%m-%d"), hour.strftime("%H")
    truth = result.delivery.hourly_truth()
    table = amazon.table_name(files.DATASET)
    rows = result.con.execute(
        f"SELECT ad_product, advertiser_id, campaign_id, clicks, impressions FROM {DATABASE}.{table}_hourly "
        f"WHERE dt = ? AND hour = ? ORDER BY 2, 3",
        [dt, hh],
    ).fetchall()
    found = []
    for product, advertiser, campaign, clicks, impressions in rows:
        key = (product, advertiser, campaign)
        found.append(
            (dt, hh, advertiser, campaign, _clicks(first, key), _clicks(restated[-1], key), clicks,
             truth[(*key, dt, hh)]["clicks"], impressions)
        )  # fmt: skip
    header = ["dt", "hour", "advertiser", "campaign", "first", "last in", "view", "truth", "impressions"]
    return header, found


def _clicks(file: files.V2File, key: tuple[str, str, str]) -> float:
    names = list(amazon.DIMENSIONS)
    return sum(
        totals["clicks"]
        for record, totals in file.rows
        if tuple(record[names.index(n)] for n in files.HOURLY_GROUP) == key
    )


def views_match_truth(result: V2Result) -> bool:
    """The hourly view equals the truth for every product, advertiser, campaign and hour."""
    table = amazon.table_name(files.DATASET)
    metrics = ", ".join(amazon.METRICS)
    rows = result.con.execute(
        f"SELECT {', '.join(files.HOURLY_GROUP)}, dt, hour, {metrics}, records FROM {DATABASE}.{table}_hourly"
    ).fetchall()
    names = [*amazon.METRICS, "records"]
    return {r[:5]: dict(zip(names, r[5:], strict=True)) for r in rows} == result.delivery.hourly_truth()
