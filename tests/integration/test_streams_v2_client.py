"""The Marketing Stream v2 subscriptions client against the emulator, and the emulator's refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from adsbridge.ads import ContractError
from adsbridge.ads import stream_v2_contract as v2
from adsbridge.ads.streams_v2 import StreamsV2Client, SubscriptionRefused
from adsbridge_sandbox.emulator import Emulator

ACCOUNT = "amzn1.ads-account.g.akzidxc3q1tgxm4lfb3h4j8ij"
OTHER_ACCOUNT = "amzn1.ads-account.g.3x7kq9m2p4r6t8v0w1y3z5b7d"
BUCKET = "arn:aws:s3:::adsbridge-v2-123456789012-us-east-1-data"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:adsbridge-v2-notifications"
DATASET = "ads-performance-v1"
TOKEN = "5f3b2f0e-6c1d-4a53-9f55-2b8a1c9e7d10"


@pytest.fixture
def streams(client: Any) -> StreamsV2Client:
    """On the session of conftest's client: its retry policy and recorded sleeps."""
    return StreamsV2Client(client.session)


def test_create_query_retrieve_delete(streams: StreamsV2Client, emulator: Emulator) -> None:
    created = streams.create(ACCOUNT, DATASET, BUCKET, QUEUE, client_request_token=TOKEN)
    assert (created.dataset_id, created.status, created.bucket_arn, created.queue_arn) == (
        DATASET,
        "ACTIVE",
        BUCKET,
        QUEUE,
    )
    assert [s.subscription_id for s in streams.query(ACCOUNT)] == [created.subscription_id]
    assert streams.retrieve(ACCOUNT, [created.subscription_id]) == [created]
    archived = streams.delete(ACCOUNT, [created.subscription_id])
    assert [s.status for s in archived] == ["ARCHIVED"]
    assert streams.get(ACCOUNT, created.subscription_id).status == "ARCHIVED"  # type: ignore[union-attr]
    assert list(streams.query(OTHER_ACCOUNT)) == []  # another account sees none of them
    assert streams.get(OTHER_ACCOUNT, created.subscription_id) is None
    sent = [r for r in emulator.request_log() if r.path.startswith("/adsApi/")]
    assert [r.path for r in sent][:4] == [v2.PATHS[op] for op in ("create", "query", "retrieve", "delete")]
    assert {(r.method, r.headers["content-type"]) for r in sent} == {("POST", v2.MEDIA_TYPE)}


def test_create_with_the_same_token_returns_the_same_subscription(streams: StreamsV2Client) -> None:
    first = streams.create(ACCOUNT, DATASET, BUCKET, QUEUE, client_request_token=TOKEN)
    again = streams.create(ACCOUNT, DATASET, BUCKET, QUEUE, client_request_token=TOKEN)
    assert again.subscription_id == first.subscription_id
    assert len(list(streams.query(ACCOUNT))) == 1


def test_a_second_live_subscription_to_the_same_destination_is_refused(streams: StreamsV2Client) -> None:
    first = streams.create(ACCOUNT, DATASET, BUCKET, QUEUE)
    with pytest.raises(SubscriptionRefused, match=f"INVALID_REQUEST: {first.subscription_id} already delivers"):
        streams.create(ACCOUNT, DATASET, BUCKET, QUEUE)
    streams.delete(ACCOUNT, [first.subscription_id])
    assert streams.create(ACCOUNT, DATASET, BUCKET, QUEUE).status == "ACTIVE"  # archived ones do not count


def test_query_follows_next_token(streams: StreamsV2Client) -> None:
    queues = [f"{QUEUE}-{i}" for i in range(5)]
    made = {streams.create(ACCOUNT, DATASET, BUCKET, q).subscription_id for q in queues}
    assert {s.subscription_id for s in streams.query(ACCOUNT, page_size=2)} == made


def test_retrieve_of_an_unknown_id_is_refused_by_code(streams: StreamsV2Client) -> None:
    with pytest.raises(SubscriptionRefused) as refused:
        streams.retrieve(ACCOUNT, ["amzn1.fead.cs2.nosuchsubscription"])
    assert refused.value.codes == (v2.NOT_FOUND_CODE,) and not refused.value.retryable


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.create("123456789", DATASET, BUCKET, QUEUE), "advertiser_account_id"),
        (lambda c: c.create(ACCOUNT, DATASET, "arn:aws:s3:::b/key", QUEUE), "bucketArn"),
        (lambda c: c.create(ACCOUNT, DATASET, BUCKET, QUEUE + ".fifo"), "queueArn"),
        (lambda c: c.create(ACCOUNT, "Ads Performance", BUCKET, QUEUE), "dataset"),
        (lambda c: c.create(ACCOUNT, DATASET, BUCKET, QUEUE, client_request_token="short"), "clientRequestToken"),
        (lambda c: list(c.query(ACCOUNT, page_size=0)), "page_size"),
        (lambda c: c.retrieve(ACCOUNT, []), "streamSubscriptionIds"),
        (lambda c: c.delete(ACCOUNT, ["../create/streamSubscriptions"]), "subscription_id"),
    ],
)
def test_bad_values_are_refused_before_sending(
    streams: StreamsV2Client, emulator: Emulator, call: Any, message: str
) -> None:
    with pytest.raises(ContractError, match=message):
        call(streams)
    assert not [r for r in emulator.request_log() if r.path.startswith("/adsApi/")]


def _post(emulator: Emulator, op: str, body: Any, content_type: str = v2.MEDIA_TYPE) -> requests.Response:
    token = requests.post(
        emulator.token_url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": emulator.credentials.refresh_token,
            "client_id": emulator.credentials.client_id,
            "client_secret": emulator.credentials.client_secret,
        },
        timeout=5,
    ).json()["access_token"]
    headers = {
        "Authorization": f"Bearer {token}",
        "Amazon-Advertising-API-ClientId": emulator.credentials.client_id,
        "Content-Type": content_type,
    }
    return requests.post(emulator.url + v2.PATHS[op], data=json.dumps(body), headers=headers, timeout=5)


def item(**overrides: Any) -> dict[str, Any]:
    base = {"clientRequestToken": TOKEN, "dataSetId": DATASET, "destination": v2.destination(BUCKET, QUEUE)}
    return {**base, **overrides}


ACCOUNTS = {"accessRequestedAccounts": [{"advertiserAccountId": ACCOUNT}]}


@pytest.mark.parametrize(
    ("op", "body", "message"),
    [
        ("create", {"streamSubscriptions": [item()]}, "accessRequestedAccounts is required"),
        (
            "create",
            {"accessRequestedAccounts": [{"advertiserAccountId": "42"}], "streamSubscriptions": [item()]},
            "not an advertiser account id",
        ),
        ("create", {**ACCOUNTS, "streamSubscriptions": []}, "streamSubscriptions is required"),
        ("create", {**ACCOUNTS, "streamSubscriptions": [item()], "notes": "x"}, "Unknown field"),
        ("query", {**ACCOUNTS, "maxResults": "10"}, "maxResults must be an integer"),
        ("query", {**ACCOUNTS, "nextToken": "abc"}, "nextToken is not a token"),
        ("retrieve", {**ACCOUNTS, "streamSubscriptionIds": "amzn1.x"}, "streamSubscriptionIds is required"),
    ],
)
def test_emulator_refuses_malformed_requests(emulator: Emulator, op: str, body: Any, message: str) -> None:
    answer = _post(emulator, op, body)
    assert answer.status_code == 400
    assert answer.json()["code"] == "INVALID_REQUEST" and message in answer.json()["message"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (item(dataSetId="sp-traffic"), "not a Marketing Stream v2 dataset"),
        (item(destination={"sqsDestination": {"queueArn": QUEUE}}), "destination: must be"),
        (item(destination=v2.destination(BUCKET, QUEUE.replace("us-east-1", "eu-west-1"))), "not a Stream v2 region"),
        (item(clientRequestToken=None), "clientRequestToken"),
        (item(notes="x"), "Unknown field(s): notes"),
    ],
)
def test_emulator_refuses_bad_items_one_by_one(emulator: Emulator, bad: dict[str, Any], message: str) -> None:
    good = item(clientRequestToken="5f3b2f0e-6c1d-4a53-9f55-2b8a1c9e7d99")
    answer = _post(emulator, "create", {**ACCOUNTS, "streamSubscriptions": [good, bad]})
    assert answer.status_code == 207
    body = answer.json()
    assert [entry["index"] for entry in body["success"]] == [0]
    [error] = body["error"]
    assert error["index"] == 1 and error["errors"][0]["code"] == "INVALID_REQUEST"
    assert message in error["errors"][0]["message"]


def test_emulator_refuses_another_media_type(emulator: Emulator) -> None:
    answer = _post(
        emulator, "query", ACCOUNTS, content_type="application/vnd.amazonmarketingstreamsubscriptions.v1+json"
    )
    assert answer.status_code == 415
