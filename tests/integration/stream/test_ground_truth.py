"""10,000 messages with duplicates, restatements and negative corrections → exactly the true hourly sums.

The handler writes them to moto S3 in batches; DuckDB runs the views' own SQL over those objects
(``adsbridge_sandbox.synthetic`` makes the stream and knows its truth). Hostile messages mixed in (forged
confirmations, records on another dataset's queue or outside the partition projection, NaN) each fail alone,
and only Amazon's genuine confirmations are confirmed.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from tests.integration.stream.conftest import invoke
from tests.integration.stream.lambda_event import REGION, queue_arn, sqs_record

from adsbridge.stream import datasets
from adsbridge.stream.handlers import ingest as handler
from adsbridge_sandbox import synthetic
from adsbridge_sandbox.duck import catalog, download, hourly

TOTAL = 10_000
BATCH = 1_000
TRAFFIC, CONVERSION = datasets.get("sp-traffic"), datasets.get("sp-conversion")


AMAZON_TOPIC = "arn:aws:sns:us-east-1:906013806264:AmazonMarketingStream"  # sp-traffic's NA publisher
SNS = f"https://sns.{REGION}.amazonaws.com/"


def confirmation(token: str, url: str, topic: str = AMAZON_TOPIC) -> str:
    return json.dumps({"Type": "SubscriptionConfirmation", "TopicArn": topic, "Token": token, "SubscribeURL": url})


def genuine(token: str) -> str:
    return confirmation(token, f"{SNS}?Action=ConfirmSubscription&TopicArn={AMAZON_TOPIC}&Token={token}")


def hostile(rng: random.Random, traffic_record: str) -> list[tuple[str, str]]:
    """(dataset whose queue gets it, body): messages that would land where no one looks, or be confirmed."""
    record = json.loads(traffic_record)
    t = f"{rng.getrandbits(64):016x}"
    query = f"?Action=ConfirmSubscription&TopicArn={AMAZON_TOPIC}&Token={t}"
    forged = [
        confirmation(t, f"https://sns.example.net/{query}"),
        confirmation(t, f"https://sns.{REGION}.amazonaws.com.example.net/{query}"),
        confirmation(t, f"https://sns.{REGION}.amazonaws.com@example.net/{query}"),
        confirmation(t, f"http://sns.{REGION}.amazonaws.com/{query}"),
        confirmation(t, f"{SNS}?Action=ConfirmSubscription&TopicArn={AMAZON_TOPIC}-other&Token={t}"),
        confirmation(t, f"{SNS}?Action=ConfirmSubscription&TopicArn={AMAZON_TOPIC}&Token={t}0"),
        confirmation(t, f"{SNS}{query}", topic="arn:aws:sns:us-east-1:123456789012:MyTopic"),  # not Amazon's
    ]
    return [
        *(("sp-traffic", body) for body in forged),
        ("sd-traffic", genuine(t)),  # Amazon's sp-traffic topic, but on the sd-traffic queue
        ("sp-conversion", traffic_record),  # a record on another dataset's queue
        ("sp-traffic", json.dumps({**record, "time_window_start": "2019-03-01T10:00:00-08:00"})),
        ("sp-traffic", json.dumps({**record, "time_window_start": "2099-03-01T10:00:00-08:00"})),
        ("sp-traffic", json.dumps({**record, "cost": float("inf")})),
    ]


class RecordingSns:
    def __init__(self) -> None:
        self.confirmed: list[str] = []

    def confirm_subscription(self, *, TopicArn: str, Token: str, **_: Any) -> dict[str, str]:
        self.confirmed.append(Token)
        return {"SubscriptionArn": f"{TopicArn}:{Token}"}


def test_views_reproduce_the_ground_truth(aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sns = RecordingSns()
    monkeypatch.setattr(handler, "_sns", lambda region: sns)
    rng = random.Random(20240303)
    stream = synthetic.generate(rng, TOTAL, [TRAFFIC, CONVERSION], start=datetime(2024, 3, 1, tzinfo=UTC))
    records = [
        sqs_record(f"msg-{i}", d.body, queue_arn(d.dataset_id), int(d.sent_at.timestamp() * 1000))
        for i, d in enumerate(stream.deliveries)
    ]
    sent = int(stream.deliveries[-1].sent_at.timestamp() * 1000)
    raw_traffic = [d.body for d in stream.deliveries if d.dataset_id == "sp-traffic" and '"Type"' not in d.body]
    bad: set[str] = set()
    tokens: list[str] = []
    for n in range(20):
        for dataset_id, body in hostile(rng, rng.choice(raw_traffic)):
            bad_id = f"bad-{len(bad)}"
            bad.add(bad_id)
            records.insert(rng.randrange(len(records)), sqs_record(bad_id, body, queue_arn(dataset_id), sent))
        tokens.append(f"genuine-{n}")
        records.insert(
            rng.randrange(len(records)), sqs_record(f"ok-{n}", genuine(tokens[-1]), queue_arn("sp-traffic"), sent)
        )
    failed: set[str] = set()
    for start in range(0, len(records), BATCH):
        failed |= invoke(records[start : start + BATCH])
    assert failed == bad
    assert sorted(sns.confirmed) == sorted(tokens)  # Amazon's own, each once; not one forged

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
