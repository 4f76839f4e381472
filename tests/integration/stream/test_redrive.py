"""``adsbridge streams redrive`` against moto SQS: DLQ messages return to their source queue, bodies and
attributes intact; refused copies stay in the DLQ; undeployed datasets are skipped, unknown ones refused."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from adsbridge.stream import cli as streams_cli
from adsbridge.stream.redrive import Redriver

REGION = "eu-west-1"  # the EU realm's


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def deploy(sqs: Any, dataset_id: str) -> tuple[str, str]:
    """A stream queue and its DLQ as infra/stream names them; (source url, dlq url)."""
    dlq = sqs.create_queue(QueueName=f"adsbridge-{dataset_id}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})
    source = sqs.create_queue(QueueName=f"adsbridge-{dataset_id}", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    return source, dlq


def bodies(sqs: Any, url: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    while got := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, MessageAttributeNames=["All"]
    ).get("Messages"):
        found += [(m["Body"], m.get("MessageAttributes", {})) for m in got]
    return sorted(found, key=lambda pair: pair[0])


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    streams_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["streams", "redrive", *argv])
    return int(args.func(args))


def test_every_deployed_dlq_goes_back_to_its_source_queue(sqs: Any, capsys: pytest.CaptureFixture[str]) -> None:
    traffic, traffic_dlq = deploy(sqs, "sp-traffic")
    budget, budget_dlq = deploy(sqs, "budget-usage")
    attribute = {"origin": {"DataType": "String", "StringValue": "sns"}}
    for i in range(23):  # more than one SQS batch
        sqs.send_message(QueueUrl=traffic_dlq, MessageBody=f'{{"n":{i:02d}}}', MessageAttributes=attribute)
    sqs.send_message(QueueUrl=budget_dlq, MessageBody='{"budget":1}')

    assert cli("--realm", "EU") == 0

    assert bodies(sqs, traffic_dlq) == [] and bodies(sqs, budget_dlq) == []
    assert bodies(sqs, traffic) == [(f'{{"n":{i:02d}}}', attribute) for i in range(23)]
    assert bodies(sqs, budget) == [('{"budget":1}', {})]
    assert sorted(capsys.readouterr().out.splitlines()) == [
        "budget-usage: moved 1, failed 0",
        "sp-traffic: moved 23, failed 0",
    ]


class RefusingSqs:
    """moto's client, except that SQS refuses to accept copies whose body contains ``refuse``."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.exceptions = client.exceptions

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        ok = [e for e in Entries if "refuse" not in e["MessageBody"]]
        refused = [{"Id": e["Id"], "SenderFault": False, "Code": "InternalError"} for e in Entries if e not in ok]
        sent = self._client.send_message_batch(QueueUrl=QueueUrl, Entries=ok) if ok else {}
        return {"Successful": sent.get("Successful", []), "Failed": refused}


def test_a_refused_copy_stays_in_the_dlq_and_the_run_stops_at_the_starting_depth(sqs: Any) -> None:
    source, dlq = deploy(sqs, "sp-conversion")
    for body in ("a", "refuse-b", "c"):
        sqs.send_message(QueueUrl=dlq, MessageBody=body)

    result = Redriver(RefusingSqs(sqs), queue_prefix="adsbridge-", wait_seconds=0, visibility_seconds=0).redrive(
        "sp-conversion"
    )

    # With a zero visibility timeout the refused message is visible again at once; the depth budget ends the run.
    assert (result.moved, result.failed) == (2, 1)
    assert [b for b, _ in bodies(sqs, source)] == ["a", "c"]
    assert [b for b, _ in bodies(sqs, dlq)] == ["refuse-b"]


def test_named_datasets_must_exist(sqs: Any, capsys: pytest.CaptureFixture[str]) -> None:
    deploy(sqs, "sp-traffic")
    assert cli("--realm", "EU", "--dataset", "sd-traffic") == 2
    assert "adsbridge-sd-traffic does not exist in eu-west-1" in capsys.readouterr().err
    assert cli("--realm", "EU", "--dataset", "retail-sales") == 2
    assert "unknown dataset" in capsys.readouterr().err
    assert cli("--realm", "EU", "--dataset", "sp-traffic") == 0
    assert capsys.readouterr().out == "sp-traffic: moved 0, failed 0\n"


def test_large_messages_go_back_in_as_many_calls_as_the_batch_size_limit_needs(sqs: Any) -> None:
    source, dlq = deploy(sqs, "sp-traffic")
    large = ["x" * 200_000 + str(i) for i in range(10)]  # near Amazon's 256 KB cap; 2 MB together
    for body in large:
        sqs.send_message(QueueUrl=dlq, MessageBody=body)

    result = Redriver(sqs, queue_prefix="adsbridge-", wait_seconds=0).redrive("sp-traffic")

    assert (result.moved, result.failed) == (10, 0)
    assert sorted(b for b, _ in bodies(sqs, source)) == sorted(large)
