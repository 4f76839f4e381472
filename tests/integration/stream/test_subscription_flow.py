"""Subscribe → confirmation in a moto queue → the ingest handler confirms → ACTIVE → data lands → archive.

Amazon's SNS topic cannot exist in moto, so the handler's SNS client is the emulator's stand-in
(``Emulator.sns``); everything else is the real client, real handler and moto SQS/S3.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import boto3
import pytest
from tests.integration.stream.conftest import all_lines, drain
from tests.integration.stream.lambda_event import REGION
from tests.integration.stream.test_delivery import bodies, make_queue, traffic

from adsbridge.ads import AdsSession, Owner, StreamsClient, TokenProvider
from adsbridge.stream.handlers import ingest as handler
from adsbridge_sandbox.emulator import Emulator

PROFILE = Owner("3519471835403213")


@pytest.fixture
def emu(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    with Emulator(sqs_client_for=lambda region: boto3.client("sqs", region_name=region)) as emulator:
        monkeypatch.setattr(handler, "_sns", lambda region: emulator.sns)
        yield emulator


@pytest.fixture
def streams(emu: Emulator) -> StreamsClient:
    tokens = TokenProvider(emu.credentials.lwa(), emu.token_url)
    return StreamsClient(AdsSession(emu.url, tokens, sleep=lambda _: None, rng=random.Random(1)))


@pytest.mark.parametrize("envelope", [False, True])
def test_subscription_lifecycle_end_to_end(emu: Emulator, streams: StreamsClient, envelope: bool) -> None:
    url, arn, dlq = make_queue("sp-traffic")
    sid = streams.create(PROFILE, "sp-traffic", arn)
    assert streams.get(PROFILE, sid).status == "PENDING_CONFIRMATION"
    assert emu.subscriptions.publish("sp-traffic", [traffic(0)]) == 0  # nothing flows before confirmation

    drain(url, arn)  # the confirmation message: the handler checks the topic is Amazon's and confirms
    assert streams.get(PROFILE, sid).status == "ACTIVE"

    assert emu.subscriptions.publish("sp-traffic", [traffic(1), traffic(2)], envelope=envelope) == 2
    drain(url, arn)
    rows = [row for lines in all_lines().values() for row in lines]
    assert sorted(r["idempotency_id"] for r in rows) == ["id-1", "id-2"]
    assert bodies(dlq) == []

    streams.archive(PROFILE, sid)
    assert streams.get(PROFILE, sid).status == "ARCHIVED"
    assert emu.subscriptions.publish("sp-traffic", [traffic(3)]) == 0


def test_confirmation_for_another_queue_is_not_confirmed(emu: Emulator, streams: StreamsClient) -> None:
    """A queue named for another dataset gets sp-traffic's topic: the handler refuses it, it goes to the DLQ."""
    url, arn, dlq = make_queue("sd-traffic")
    sid = streams.create(PROFILE, "sp-traffic", arn)
    drain(url, arn)
    assert streams.get(PROFILE, sid).status == "PENDING_CONFIRMATION"
    assert [json.loads(body)["Type"] for body in bodies(dlq)] == ["SubscriptionConfirmation"]


def test_unreachable_queue_leaves_the_subscription_pending(emu: Emulator, streams: StreamsClient) -> None:
    """As on Amazon with a wrong queue policy: no confirmation arrives and the status stays pending.

    See docs/marketing-stream.md#confirmation.
    """
    sid = streams.create(PROFILE, "sp-traffic", f"arn:aws:sqs:{REGION}:123456789012:adsbridge-missing")
    assert streams.get(PROFILE, sid).status == "PENDING_CONFIRMATION"


def test_genuine_token_with_a_foreign_subscribe_url_is_not_confirmed(
    emu: Emulator, streams: StreamsClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Amazon's own topic and a live token, but a SubscribeURL elsewhere: refused, though the API call would work."""
    url, arn, dlq = make_queue("sp-traffic")
    sid = streams.create(PROFILE, "sp-traffic", arn)
    [genuine] = bodies(url)
    forged = json.loads(genuine)
    forged["SubscribeURL"] = forged["SubscribeURL"].replace(f"sns.{REGION}.amazonaws.com", "sns.example.net")
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(forged))
    drain(url, arn)
    assert streams.get(PROFILE, sid).status == "PENDING_CONFIRMATION"
    assert [json.loads(body)["SubscribeURL"] for body in bodies(dlq)] == [forged["SubscribeURL"]]
    log = caplog.text  # the reason, never the token or the forged host
    assert f"SubscribeURL is not on sns.{REGION}.amazonaws.com" in log
    assert forged["Token"] not in log and "example.net" not in log

    sqs.send_message(QueueUrl=url, MessageBody=genuine)  # the message as SNS wrote it still confirms
    drain(url, arn)
    assert streams.get(PROFILE, sid).status == "ACTIVE"
