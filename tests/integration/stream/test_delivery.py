"""Real SNS → SQS delivery in moto, poison messages to the DLQ, S3 failures redelivered; nothing healthy lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from tests.integration.stream.conftest import all_lines, drain
from tests.integration.stream.lambda_event import BUCKET, PREFIX, REGION

from adsbridge.stream import datasets
from adsbridge.stream.handlers import ingest as handler
from adsbridge_sandbox.duck import catalog, download

SAMPLES = Path(__file__).resolve().parents[2] / "data/ams_samples"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def make_queue(dataset_id: str) -> tuple[str, str, str]:
    """(url, arn, dlq url): a stream queue with a DLQ after 5 receives, as infra/stream builds it."""
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.create_queue(QueueName=f"{PREFIX}{dataset_id}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})
    url = sqs.create_queue(QueueName=f"{PREFIX}{dataset_id}", Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn, dlq


def bodies(queue_url: str) -> list[str]:
    sqs = boto3.client("sqs", region_name=REGION)
    found: list[str] = []
    while got := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        found += [m["Body"] for m in got]
        for m in got:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    return found


def traffic(i: int) -> dict[str, Any]:
    return {**json.loads(sample("sp-traffic.synthesized.json")), "idempotency_id": f"id-{i}", "clicks": i}


def test_sns_delivers_raw_and_enveloped_into_the_handler(aws: None, tmp_path: Path) -> None:
    url, arn, dlq = make_queue("sp-traffic")
    sns = boto3.client("sns", region_name=REGION)
    raw, enveloped = (sns.create_topic(Name=f"amazon-sp-traffic-{kind}")["TopicArn"] for kind in ("raw", "env"))
    sns.subscribe(TopicArn=raw, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    sns.subscribe(TopicArn=enveloped, Protocol="sqs", Endpoint=arn)
    for i in range(3):
        for topic in (raw, enveloped):
            sns.publish(TopicArn=topic, Message=json.dumps(traffic(i)))

    drain(url, arn)

    rows = [row for lines in all_lines().values() for row in lines]
    assert len(rows) == 6  # each publish arrives twice: raw and in an envelope
    assert sorted(r["idempotency_id"] for r in rows) == sorted([f"id-{i}" for i in range(3)] * 2)
    assert all(r["_realm"] == "NA" and r["keyword_text"] == "running shoes" for r in rows)
    con = catalog(
        download(boto3.client("s3", region_name=REGION), BUCKET, tmp_path), "ams", [datasets.get("sp-traffic")]
    )
    assert con.execute("SELECT sum(clicks), sum(records) FROM ams.sp_traffic_hourly").fetchone() == (3, 3)
    assert bodies(dlq) == []


def forged_confirmation() -> str:
    """Amazon's sp-traffic topic in NA, but a SubscribeURL on another host."""
    body = json.loads(sample("sns-subscription-confirmation.json"))
    topic = "arn:aws:sns:us-east-1:906013806264:AmazonMarketingStream"
    url = f"https://sns.us-east-1.example.net/?Action=ConfirmSubscription&TopicArn={topic}&Token={body['Token']}"
    return json.dumps({**body, "TopicArn": topic, "SubscribeURL": url})


def test_poison_messages_end_in_the_dlq_and_no_healthy_one_is_lost(aws: None) -> None:
    url, arn, dlq = make_queue("sp-traffic")
    sqs = boto3.client("sqs", region_name=REGION)
    poison = [
        sample("adsp-adgroups.verbatim-INVALID-JSON.txt"),
        '{"clicks": 1}',  # no dataset_id
        sample("sns-subscription-confirmation.json"),  # a topic that is not Amazon's
        json.dumps({**traffic(99), "time_window_start": "not a time"}),
        json.dumps({**traffic(98), "dataset_id": "sd-traffic"}),  # not this queue's dataset
        json.dumps({**traffic(97), "time_window_start": "2019-06-01T10:00:00-07:00"}),  # before the projection
        json.dumps({**traffic(96), "cost": float("nan")}),  # Python writes NaN; JSON has none
        forged_confirmation(),
    ]
    healthy = [json.dumps(traffic(i)) for i in range(25)]
    for body in healthy[:12] + poison + healthy[12:]:
        sqs.send_message(QueueUrl=url, MessageBody=body)

    drain(url, arn)

    assert sorted(bodies(dlq)) == sorted(poison)
    landed = sorted(r["idempotency_id"] for lines in all_lines().values() for r in lines)
    assert sorted(set(landed)) == sorted(f"id-{i}" for i in range(25))


class FlakyS3:
    """A real (moto) S3 client whose first ``failures`` puts raise, as a throttled or unreachable S3 would."""

    def __init__(self, failures: int) -> None:
        self._client = boto3.client("s3", region_name=REGION)
        self.failures = failures

    def put_object(self, **kwargs: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("injected S3 failure")
        return self._client.put_object(**kwargs)


def test_s3_failure_leads_to_redelivery_not_loss(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    url, arn, dlq = make_queue("sp-traffic")
    flaky = FlakyS3(failures=2)
    monkeypatch.setattr(handler, "_s3", lambda: flaky)
    sqs = boto3.client("sqs", region_name=REGION)
    for i in range(30):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(traffic(i)))

    invocations = drain(url, arn)

    assert flaky.failures == 0 and invocations > 3  # the failed batches came back
    landed = {r["idempotency_id"] for lines in all_lines().values() for r in lines}
    assert landed == {f"id-{i}" for i in range(30)}
    assert bodies(dlq) == []
