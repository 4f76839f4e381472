"""10,000 messages with duplicates, restatements and negative corrections → exactly the true hourly sums.

The handler writes them to moto S3 in batches; DuckDB runs the views' own SQL over those objects
(``adsbridge.stream.synthetic`` makes the stream and knows its truth).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import boto3
from tests.integration.stream.conftest import invoke
from tests.integration.stream.lambda_event import REGION, queue_arn, sqs_record

from adsbridge.stream import datasets, synthetic
from adsbridge.stream.duck import catalog, download, hourly

TOTAL = 10_000
BATCH = 1_000
TRAFFIC, CONVERSION = datasets.get("sp-traffic"), datasets.get("sp-conversion")


def test_views_reproduce_the_ground_truth(aws: None, tmp_path: Path) -> None:
    stream = synthetic.generate(
        random.Random(20240303), TOTAL, [TRAFFIC, CONVERSION], start=datetime(2024, 3, 1, tzinfo=UTC)
    )
    records = [
        sqs_record(f"msg-{i}", d.body, queue_arn(d.dataset_id), int(d.sent_at.timestamp() * 1000))
        for i, d in enumerate(stream.deliveries)
    ]
    for start in range(0, TOTAL, BATCH):
        assert invoke(records[start : start + BATCH]) == set()

    raw = download(boto3.client("s3", region_name=REGION), "adsbridge-stream-raw", tmp_path)
    con = catalog(raw, "ams", [TRAFFIC, CONVERSION])
    assert (
        con.execute("SELECT count(*) FROM ams.sp_traffic").fetchone()[0]
        + con.execute("SELECT count(*) FROM ams.sp_conversion").fetchone()[0]
        == TOTAL
    )  # every delivery is kept raw
    for dataset in (TRAFFIC, CONVERSION):
        truth = stream.hourly_truth(dataset)
        assert hourly(con, "ams", dataset) == truth
        assert any(v.get("clicks", v.get("attributed_sales_7d", 0)) < 0 for v in truth.values())

    traffic, conversions = stream.hourly_truth(TRAFFIC), stream.hourly_truth(CONVERSION)
    joined = con.execute(
        "SELECT advertiser_id, marketplace_id, time_window_start, campaign_id, ad_group_id, ad_id, keyword_id, "
        "placement, currency, clicks, attributed_sales_7d FROM ams.sp_performance_hourly"
    ).fetchall()
    assert len(joined) == len(traffic)
    by_join_key = {k[:9]: v for k, v in conversions.items()}  # conversion key = the join key, then dt, hour
    for row in joined:
        expected = by_join_key.get(row[:9], {}).get("attributed_sales_7d")
        assert row[10] == expected
