"""The emulator's Marketing Stream subscriptions API over raw HTTP: headers, media types, bodies, limits, statuses."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from moto import mock_aws

from adsbridge_sandbox.emulator import Emulator
from adsbridge_sandbox.emulator.streams import (
    MAX_BATCH_BYTES,
    MAX_BATCH_ENTRIES,
    DeliveryError,
    Owner,
    SqsDelivery,
    batches,
)

SP = "application/vnd.amazonmarketingstreamsubscriptions.v1+json"  # the model's one type, DSP calls too
# The onboarding guide's media types and DSP header, which Amazon's model does not list.
GUIDE_SP = "application/vnd.MarketingStreamSubscriptions.StreamSubscriptionResource.v1.0+json"
GUIDE_DSP = "application/vnd.MarketingStreamSubscriptions.DspStreamSubscriptionResource.v1.0+json"
DSP_HEADER = "Amazon-Ads-Account-ID"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:adsbridge-sp-traffic"
OTHER_QUEUE = "arn:aws:sqs:us-east-1:123456789012:adsbridge-sp-traffic-2"
PROFILE = {"Amazon-Advertising-API-Scope": "3519471835403213"}


class Streams:
    def __init__(self, api: Any) -> None:
        self.api = api

    def create(
        self, body: dict[str, Any] | None = None, *, path: str = "/streams/subscriptions", **headers: str
    ) -> requests.Response:
        body = body if body is not None else sub_body()
        all_headers = {**PROFILE, **headers}
        return self.api.call("POST", path, body, content_type=all_headers.pop("ct", SP), headers=all_headers)

    def get(self, subscription_id: str, **headers: str) -> requests.Response:
        return self.api.call("GET", f"/streams/subscriptions/{subscription_id}", headers={**PROFILE, **headers})


def token(name: str) -> str:
    """A clientRequestToken of the model's minimum length (22) that still reads as ``name``."""
    return name.ljust(22, "0")


def sub_body(name: str = "token-1", dataset: str = "sp-traffic", queue: str = QUEUE, **extra: Any) -> dict[str, Any]:
    return {
        "clientRequestToken": token(name),
        "dataSetId": dataset,
        "destination": {"sqsDestination": {"queueArn": queue}},
        **extra,
    }


FIREHOSE = "arn:aws:firehose:us-east-1:123456789012:deliverystream/adsbridge-sp-traffic"


def firehose_body(**arns: str) -> dict[str, Any]:
    destination = {
        "deliveryStreamArn": FIREHOSE,
        "subscriptionRoleArn": "arn:aws:iam::123456789012:role/sp-traffic-subscription",
        "subscriberRoleArn": "arn:aws:iam::123456789012:role/sp-traffic-subscriber",
        **arns,
    }
    return {**sub_body(), "destination": {"firehoseDestination": destination}}


@pytest.fixture
def streams(api: Any) -> Streams:
    return Streams(api)


def test_a_firehose_destination_is_active_at_once_and_shown_as_sent(streams: Streams) -> None:
    body = firehose_body()
    created = streams.create(body)
    assert created.status_code == 200
    got = streams.get(created.json()["subscriptionId"]).json()["subscription"]
    assert got["status"] == "ACTIVE"  # no confirmation step for Firehose
    assert got["destination"] == body["destination"] and got["destinationArn"] == FIREHOSE


def test_create_then_get_shows_pending_confirmation(streams: Streams) -> None:
    created = streams.create(sub_body(notes="hello"))
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["clientRequestToken"] == token("token-1")
    assert body["subscriptionId"].startswith("amzn1.fead.cs1.")
    got = streams.get(body["subscriptionId"]).json()["subscription"]
    assert got["status"] == "PENDING_CONFIRMATION"
    assert got["destinationArn"] == QUEUE == got["destination"]["sqsDestination"]["queueArn"]
    assert (got["dataSetId"], got["notes"]) == ("sp-traffic", "hello")


def test_onboarding_guide_destination_arn_form_is_accepted(streams: Streams) -> None:
    body = {"clientRequestToken": token("t"), "dataSetId": "sp-traffic", "destinationArn": QUEUE}
    assert streams.create(body).status_code == 200


@pytest.mark.parametrize("media_type", [GUIDE_SP, GUIDE_DSP])
def test_the_onboarding_guides_media_types_are_refused(streams: Streams, media_type: str) -> None:
    """The model lists one media type; the guide's ``…v1.0+json`` types would fail on Amazon, so here too."""
    assert streams.create(ct=media_type).status_code == 415
    assert streams.create(Accept=media_type).status_code == 406


@pytest.mark.parametrize(
    ("headers", "status", "text"),
    [
        ({"ct": "application/json"}, 415, "Content-Type must be"),
        ({"ct": GUIDE_DSP}, 415, "Content-Type must be"),
        ({"Accept": "application/xml"}, 406, "Accept must allow"),
        ({"Amazon-Advertising-API-Scope": ""}, 400, "Amazon-Advertising-API-Scope header is required"),
    ],
)
def test_header_problems_are_refused(streams: Streams, headers: dict[str, str], status: int, text: str) -> None:
    response = streams.create(**headers)
    assert response.status_code == status
    assert text in response.json()["message"]
    if status == 400:  # the model's error shape
        assert response.json()["code"] == "INVALID_REQUEST"


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"dataSetId": "sp-traffic", "destinationArn": QUEUE}, "clientRequestToken is required"),
        (sub_body(dataset="sp-nope"), "is not a Marketing Stream dataset"),
        (sub_body(dataset="adsp-traffic"), "must be subscribed through /dsp/streams/subscriptions"),
        (sub_body(queue="arn:aws:sqs:eu-west-1:123456789012:q"), "delivered only to us-east-1"),
        (sub_body(queue="arn:aws:sqs:us-east-1:123456789012:q.fifo"), "must be an SQS queue ARN"),
        (sub_body(destinationArn=OTHER_QUEUE), "disagree"),
        (sub_body(extra=1), "Unknown field(s): extra"),
        ({**sub_body(), "clientRequestToken": "t" * 21}, "a string of 22 to 36 characters"),
        ({**sub_body(), "clientRequestToken": "t" * 37}, "a string of 22 to 36 characters"),
        (sub_body(notes="n" * 129), "notes must be a string of at most 128 characters"),
        (
            {**sub_body(), "destination": {"firehoseDestination": {"deliveryStreamArn": "x"}}},
            "firehoseDestination needs exactly deliveryStreamArn, subscriberRoleArn, subscriptionRoleArn",
        ),
        (firehose_body(deliveryStreamArn=FIREHOSE.replace("firehose", "kinesis", 1)), "deliveryStreamArn is not"),
        (firehose_body(subscriberRoleArn="arn:aws:iam::123456789012:user/me"), "subscriberRoleArn is not a valid"),
        (firehose_body(deliveryStreamArn=FIREHOSE.replace("us-east-1", "eu-west-1")), "delivered only to us-east-1"),
        ({**firehose_body(), "destinationArn": QUEUE}, "firehoseDestination"),
    ],
)
def test_bad_bodies_are_refused(streams: Streams, body: dict[str, Any], text: str) -> None:
    response = streams.create(body)
    assert response.status_code == 400
    assert text in response.json()["message"]
    assert response.json()["code"] == "INVALID_REQUEST"


def test_same_token_returns_the_same_subscription_and_a_changed_request_is_refused(streams: Streams) -> None:
    first = streams.create().json()["subscriptionId"]
    assert streams.create().json()["subscriptionId"] == first
    reused = streams.create(sub_body(queue=OTHER_QUEUE))
    assert reused.status_code == 400
    assert "already used" in reused.json()["message"]


def test_limits_one_per_destination_and_two_per_dataset(streams: Streams, emu: Emulator) -> None:
    first = streams.create(sub_body("a")).json()["subscriptionId"]
    duplicate = streams.create(sub_body("b"))
    assert duplicate.status_code == 400
    assert f"{first} already delivers sp-traffic" in duplicate.json()["message"]
    assert streams.create(sub_body("c", queue=OTHER_QUEUE)).status_code == 200
    third = streams.create(sub_body("d", queue=QUEUE.replace("traffic", "traffic-3")))
    assert third.status_code == 400
    assert "already has 2 subscriptions to sp-traffic" in third.json()["message"]
    # Another profile is not affected; an archived subscription stops counting.
    assert streams.create(sub_body("e"), **{"Amazon-Advertising-API-Scope": "42"}).status_code == 200
    archive = streams.api.call(
        "PUT", f"/streams/subscriptions/{first}", {"status": "ARCHIVED"}, content_type=SP, headers=PROFILE
    )
    assert (archive.status_code, archive.content) == (200, b""), archive.text  # the model: 200, no body
    assert emu.subscriptions.status(first) == "ARCHIVED"
    assert streams.create(sub_body("f")).status_code == 200


def test_archive_is_the_only_update(streams: Streams) -> None:
    sid = streams.create().json()["subscriptionId"]
    response = streams.api.call(
        "PUT", f"/streams/subscriptions/{sid}", {"status": "ACTIVE"}, content_type=SP, headers=PROFILE
    )
    assert response.status_code == 400
    assert "ARCHIVED is the only value" in response.json()["message"]
    notes_only = streams.api.call(
        "PUT", f"/streams/subscriptions/{sid}", {"notes": "moved"}, content_type=SP, headers=PROFILE
    )
    assert notes_only.status_code == 200  # the model makes both fields optional
    got = streams.get(sid).json()["subscription"]
    assert (got["status"], got["notes"]) == ("PENDING_CONFIRMATION", "moved")


def test_subscriptions_are_private_to_their_profile(streams: Streams) -> None:
    sid = streams.create().json()["subscriptionId"]
    assert streams.get(sid, **{"Amazon-Advertising-API-Scope": "42"}).status_code == 404


def test_list_pages_with_next_token(streams: Streams) -> None:
    for n, dataset in enumerate(("sp-traffic", "sp-conversion", "sd-traffic")):
        assert streams.create(sub_body(f"t{n}", dataset=dataset, queue=QUEUE + str(n))).status_code == 200
    first = streams.api.call("GET", "/streams/subscriptions", headers=PROFILE, params={"maxResults": "2"}).json()
    assert len(first["subscriptions"]) == 2
    rest = streams.api.call(
        "GET",
        "/streams/subscriptions",
        headers=PROFILE,
        params={"maxResults": "2", "startingToken": first["nextToken"]},
    ).json()
    assert [s["dataSetId"] for s in rest["subscriptions"]] == ["sd-traffic"]
    assert "nextToken" not in rest
    bad = streams.api.call("GET", "/streams/subscriptions", headers=PROFILE, params={"maxResults": "0"})
    assert bad.status_code == 400


def test_dsp_path_takes_the_models_account_header(streams: Streams) -> None:
    body = sub_body(dataset="adsp-traffic", queue=QUEUE.replace("sp-traffic", "adsp-traffic"))
    response = streams.api.call(
        "POST", "/dsp/streams/subscriptions", body, content_type=SP, headers={DSP_HEADER: "585193847120"}
    )
    assert response.status_code == 200, response.text
    sponsored = streams.create(
        sub_body(dataset="sp-traffic"), path="/dsp/streams/subscriptions", **{DSP_HEADER: "585193847120"}
    )
    assert "must be subscribed through /streams/subscriptions" in sponsored.json()["message"]


@pytest.mark.parametrize("header", ["Amazon-Advertising-API-Account-ID", "Amazon-Ads-AccountId", ""])
def test_dsp_path_refuses_other_spellings_of_the_account_header(streams: Streams, header: str) -> None:
    """The guide's ``Amazon-Advertising-API-Account-ID`` is not in the model: Amazon would refuse the call."""
    body = sub_body(dataset="adsp-traffic", queue=QUEUE.replace("sp-traffic", "adsp-traffic"))
    headers = {header: "585193847120"} if header else {}
    response = streams.api.call("POST", "/dsp/streams/subscriptions", body, content_type=SP, headers=headers)
    assert response.status_code == 400
    assert response.json() == {"code": "INVALID_REQUEST", "message": "Amazon-Ads-Account-ID header is required"}


def test_subscription_endpoints_need_a_token(streams: Streams) -> None:
    response = streams.api.call("GET", "/streams/subscriptions", headers={**PROFILE, "Authorization": ""})
    assert response.status_code == 401


def test_confirm_needs_the_right_topic_and_token(emu: Emulator, streams: Streams) -> None:
    sid = streams.create().json()["subscriptionId"]
    with pytest.raises(ValueError, match="Invalid token"):
        emu.sns.confirm_subscription(TopicArn="arn:aws:sns:us-east-1:1:x", Token="nope")
    assert emu.subscriptions.status(sid) == "PENDING_CONFIRMATION"


# ------------------------------------------------------------------------------------------- delivery to SQS


class CountingSqs:
    """A thin wrapper over a moto SQS client: counts URL lookups, records batches, injects failed entries.

    ``fail(call, entry)`` says whether the entry of the ``call``-th (1-based) SendMessageBatch fails.
    """

    def __init__(self, client: Any, fail: Callable[[int, dict[str, str]], bool] = lambda call, entry: False) -> None:
        self.client = client
        self.fail = fail
        self.lookups = 0
        self.batches: list[list[dict[str, str]]] = []

    def get_queue_url(self, **kwargs: Any) -> Any:
        self.lookups += 1
        return self.client.get_queue_url(**kwargs)

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, str]]) -> Any:
        self.batches.append(list(Entries))
        failing = [e for e in Entries if self.fail(len(self.batches), e)]
        ok = [e for e in Entries if e not in failing]
        response = self.client.send_message_batch(QueueUrl=QueueUrl, Entries=ok) if ok else {}
        failed = [
            {"Id": e["Id"], "SenderFault": False, "Code": "InternalError", "Message": "injected"} for e in failing
        ]
        return {**response, "Failed": failed}


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def _queue(sqs: Any, name: str) -> str:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return arn


def _active(emu: Emulator, queue_arn: str, name: str = "t") -> str:
    body = {"clientRequestToken": token(name), "dataSetId": "sp-traffic", "destinationArn": queue_arn}
    sid: str = emu.subscriptions.create(Owner("3519471835403213", False), body)["subscriptionId"]
    emu.subscriptions.set_status(sid, "ACTIVE")
    return sid


def _drain(sqs: Any, queue_arn: str) -> list[str]:
    url = sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[1])["QueueUrl"]
    bodies: list[str] = []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        bodies += [m["Body"] for m in got]
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
        )
    return [b for b in bodies if "SubscriptionConfirmation" not in b]


def _records(count: int, big: frozenset[int] = frozenset()) -> list[dict[str, Any]]:
    return [{"idempotency_id": f"r{i}", "pad": "x" * (60_000 if i in big else 10)} for i in range(count)]


def test_batches_split_at_ten_entries_and_256_kib() -> None:
    bodies = ["a"] * 25 + ["b" * 100_000] * 3 + ["c"] * 2
    groups = batches(bodies)
    assert [len(g) for g in groups] == [10, 10, 7, 3]  # 5 small + 2 big fit; the third big one starts a group
    assert [b for g in groups for b in g] == bodies
    assert all(sum(len(b) for b in g) <= MAX_BATCH_BYTES for g in groups)
    assert batches([]) == []
    assert batches(["z" * 300_000]) == [["z" * 300_000]]  # too big alone: sent for SQS to refuse, not dropped


def test_publish_delivers_every_message_exactly_once_in_order(sqs: Any) -> None:
    counting = CountingSqs(sqs)
    arns = [_queue(sqs, "adsbridge-sp-traffic"), _queue(sqs, "adsbridge-sp-traffic-2")]
    emu = Emulator(sqs_client_for=lambda region: counting)
    for n, arn in enumerate(arns):
        _active(emu, arn, name=f"t{n}")
    records = _records(25, big=frozenset({3, 5, 7, 9, 11}))  # five 60 kB bodies in the first ten
    counting.batches.clear()
    assert emu.subscriptions.publish("sp-traffic", records) == 50
    expected = [json.dumps(r) for r in records]
    assert all(len(b) <= MAX_BATCH_ENTRIES for b in counting.batches)
    assert all(sum(len(e["MessageBody"]) for e in b) <= MAX_BATCH_BYTES for b in counting.batches)
    assert any(len(b) < MAX_BATCH_ENTRIES for b in counting.batches[:-1])  # the byte limit split a group
    sent = [e["MessageBody"] for b in counting.batches for e in b]
    assert sent == expected + expected  # one subscription after the other, each in record order
    for arn in arns:
        assert Counter(_drain(sqs, arn)) == Counter(expected)
    assert counting.lookups == 2  # one queue URL lookup per queue, confirmations included


def test_enveloped_publish_wraps_each_record(sqs: Any) -> None:
    arn = _queue(sqs, "adsbridge-sp-traffic")
    emu = Emulator(sqs_client_for=lambda region: sqs)
    _active(emu, arn)
    records = _records(12)
    assert emu.subscriptions.publish("sp-traffic", records, envelope=True) == 12
    messages = [json.loads(b) for b in _drain(sqs, arn)]
    assert {m["Type"] for m in messages} == {"Notification"}
    assert sorted(m["Message"] for m in messages) == sorted(json.dumps(r) for r in records)


def test_a_queue_gone_from_its_cached_url_is_looked_up_again(sqs: Any) -> None:
    arn = _queue(sqs, "adsbridge-sp-traffic")
    counting = CountingSqs(sqs)
    delivery = SqsDelivery(lambda region: counting)
    delivery.send(arn, "first")
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName="adsbridge-sp-traffic")["QueueUrl"])
    with pytest.raises(ClientError, match=r"QueueDoesNotExist|NonExistentQueue"):
        delivery.send(arn, "lost")  # lookup retried once, the queue is really gone: the error surfaces
    _queue(sqs, "adsbridge-sp-traffic")
    delivery.send_batch(arn, ["second", "third"])
    assert sorted(_drain(sqs, arn)) == ["second", "third"]
    assert counting.lookups == 3


def test_a_stale_cached_url_is_dropped_and_looked_up_once_more(sqs: Any) -> None:
    arn = _queue(sqs, "adsbridge-sp-traffic")
    counting = CountingSqs(sqs)
    delivery = SqsDelivery(lambda region: counting)
    delivery.send(arn, "first")
    real_send = counting.send_message_batch
    calls: list[str] = []

    def stale_once(*, QueueUrl: str, Entries: list[dict[str, str]]) -> Any:
        calls.append(QueueUrl)
        if len(calls) == 1:
            error = {"Error": {"Code": "AWS.SimpleQueueService.NonExistentQueue", "Message": "gone"}}
            raise ClientError(error, "SendMessageBatch")  # type: ignore[arg-type]
        return real_send(QueueUrl=QueueUrl, Entries=Entries)

    counting.send_message_batch = stale_once  # type: ignore[method-assign]
    delivery.send_batch(arn, ["second"])
    assert len(calls) == 2
    assert counting.lookups == 2
    assert sorted(_drain(sqs, arn)) == ["first", "second"]


def test_failed_batch_entries_are_resent(sqs: Any) -> None:
    arn = _queue(sqs, "adsbridge-sp-traffic")
    counting = CountingSqs(sqs, fail=lambda call, entry: call == 1 and entry["Id"] == "4")
    bodies = [f"m{i}" for i in range(15)]
    SqsDelivery(lambda region: counting).send_batch(arn, bodies)
    assert [len(b) for b in counting.batches] == [10, 1, 5]
    assert counting.batches[1][0]["MessageBody"] == "m4"
    assert Counter(_drain(sqs, arn)) == Counter(bodies)


def test_persistently_failing_entries_raise_naming_how_many(sqs: Any) -> None:
    arn = _queue(sqs, "adsbridge-sp-traffic")
    counting = CountingSqs(sqs, fail=lambda call, entry: entry["MessageBody"] in {"m2", "m7"})
    with pytest.raises(DeliveryError, match=r"^17 of 25 message\(s\) .*2 still failed after 3 attempts") as caught:
        SqsDelivery(lambda region: counting).send_batch(arn, [f"m{i}" for i in range(25)])
    assert caught.value.undelivered == 17  # 2 failed + 15 in later batches never sent
    assert [len(b) for b in counting.batches] == [10, 2, 2]
    assert sorted(_drain(sqs, arn)) == sorted(f"m{i}" for i in range(10) if i not in {2, 7})
