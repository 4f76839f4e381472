"""10,000 messages with duplicates, restatements and negative corrections → exactly the true hourly sums.

The handler writes them to moto S3 in batches; DuckDB runs the views' own SQL over those objects. Money is
generated in quarter units, so float sums are exact in any order and the comparison can be ``==``.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.integration.stream.conftest import invoke
from tests.integration.stream.duck import catalog, download
from tests.integration.stream.lambda_event import queue_arn, sqs_record

from adsbridge.stream import datasets

TOTAL = 10_000
BATCH = 1_000
OFFSETS = ("-08:00", "-07:00", "+09:00", "+01:00", "+00:00")
TRAFFIC, CONVERSION = datasets.get("sp-traffic"), datasets.get("sp-conversion")


def _dims(rng: random.Random) -> dict[str, str]:
    day, hour, offset = rng.randrange(1, 3), rng.randrange(24), rng.choice(OFFSETS)
    return {
        "marketplace_id": "ATVPDKIKX0DER",
        "currency": "USD",
        "advertiser_id": f"ENTITY{rng.randrange(3)}",
        "campaign_id": f"c{rng.randrange(4)}",
        "ad_group_id": f"g{rng.randrange(2)}",
        "ad_id": f"a{rng.randrange(2)}",
        "keyword_id": f"k{rng.randrange(3)}",
        "placement": rng.choice(["Top of Search on-Amazon", "Detail Page on-Amazon"]),
        "time_window_start": f"2024-03-0{day}T{hour:02d}:00:00{offset}",
    }


def _record(rng: random.Random, dataset: datasets.Dataset) -> dict[str, Any]:
    sign = -1 if rng.random() < 0.1 else 1  # negative corrections
    fields: dict[str, Any] = {"idempotency_id": str(uuid.UUID(int=rng.getrandbits(128))), "dataset_id": dataset.id}
    fields |= _dims(rng)
    if dataset is TRAFFIC:
        fields |= {"keyword_text": f"text-{fields['keyword_id']}", "match_type": "EXACT"}
        fields |= {"clicks": sign * rng.randrange(5), "impressions": sign * rng.randrange(200)}
        fields["cost"] = sign * rng.randrange(40) * 0.25
    else:
        fields |= {
            "attributed_conversions_7d": sign * rng.randrange(3),
            "attributed_sales_7d": sign * rng.randrange(80) * 0.5,
        }
    return fields


def _messages(rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(SQS records in delivery order, the unique Amazon records behind them)."""
    unique: list[dict[str, Any]] = []
    while len(unique) < TOTAL * 8 // 10:
        dataset = TRAFFIC if rng.random() < 0.6 else CONVERSION
        fields = _record(rng, dataset)
        unique.append(fields)
        if rng.random() < 0.15:  # a restatement: same key and hour, a new idempotency_id, a new delta
            unique.append({**_record(rng, dataset), **{k: fields[k] for k in dataset.keys}})
    unique = unique[: TOTAL * 8 // 10]
    deliveries = unique + [rng.choice(unique) for _ in range(TOTAL - len(unique))]  # 20% at-least-once repeats
    rng.shuffle(deliveries)
    start = datetime(2024, 3, 3, tzinfo=UTC)
    records = []
    for i, fields in enumerate(deliveries):
        body = json.dumps(fields)
        if i % 2:  # half arrive in SNS envelopes
            body = json.dumps(
                {
                    "Type": "Notification",
                    "MessageId": str(i),
                    "TopicArn": "arn:aws:sns:us-east-1:906013806264:t",
                    "Message": body,
                }
            )
        sent = int((start + timedelta(seconds=i)).timestamp() * 1000)
        records.append(sqs_record(f"msg-{i}", body, queue_arn(fields["dataset_id"]), sent))
    return records, unique


def _truth(unique: list[dict[str, Any]], dataset: datasets.Dataset) -> dict[tuple[Any, ...], dict[str, Any]]:
    sums: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for fields in unique:
        if fields["dataset_id"] == dataset.id:
            utc = datetime.fromisoformat(fields["time_window_start"]).astimezone(UTC)
            key = (*(fields[k] for k in dataset.keys), utc.strftime("%Y-%m-%d"), utc.strftime("%H"))
            for measure in dataset.measures:
                sums[key][measure] += fields.get(measure, 0)
    return {k: dict(v) for k, v in sums.items()}


def _view(con: Any, view: str, dataset: datasets.Dataset) -> dict[tuple[Any, ...], dict[str, Any]]:
    cols = [*dataset.keys, "dt", "hour"]
    rows = con.execute(f"SELECT {', '.join(cols + list(dataset.measures))} FROM ams.{view}").fetchall()
    # a measure absent from every record sums to NULL in SQL and to 0 in the truth
    return {
        row[: len(cols)]: {m: v or 0 for m, v in zip(dataset.measures, row[len(cols) :], strict=True)} for row in rows
    }


def test_views_reproduce_the_ground_truth(aws: None, tmp_path: Path) -> None:
    records, unique = _messages(random.Random(20240303))
    for start in range(0, TOTAL, BATCH):
        assert invoke(records[start : start + BATCH]) == set()

    con = catalog(download("adsbridge-stream-raw", tmp_path), "ams", [TRAFFIC, CONVERSION])
    assert (
        con.execute("SELECT count(*) FROM ams.sp_traffic").fetchone()[0]
        + con.execute("SELECT count(*) FROM ams.sp_conversion").fetchone()[0]
        == TOTAL
    )  # every delivery is kept raw
    for dataset in (TRAFFIC, CONVERSION):
        truth = _truth(unique, dataset)
        assert _view(con, f"{dataset.table}_hourly", dataset) == truth
        assert any(v.get("clicks", v.get("attributed_sales_7d", 0)) < 0 for v in truth.values())

    traffic, conversions = _truth(unique, TRAFFIC), _truth(unique, CONVERSION)
    joined = con.execute(
        "SELECT advertiser_id, marketplace_id, time_window_start, campaign_id, ad_group_id, ad_id, keyword_id, "
        "placement, currency, clicks, attributed_sales_7d FROM ams.sp_performance_hourly"
    ).fetchall()
    assert len(joined) == len(traffic)
    by_join_key = {k[:9]: v for k, v in conversions.items()}  # conversion key = the join key, then dt, hour
    for row in joined:
        expected = by_join_key.get(row[:9], {}).get("attributed_sales_7d")
        assert row[10] == expected
