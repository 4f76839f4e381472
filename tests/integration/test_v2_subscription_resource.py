"""The Stream v2 subscription custom resource against the emulator: CloudFormation's Create/Update/Delete."""

from __future__ import annotations

from typing import Any

import pytest

from adsbridge.ads.streams_v2 import StreamsV2Client
from adsbridge.stream.v2_subscription_resource import SubscriptionFailed, on_event
from adsbridge_sandbox.emulator import Emulator

ACCOUNT = "amzn1.ads-account.g.akzidxc3q1tgxm4lfb3h4j8ij"
BUCKET = "arn:aws:s3:::adsbridge-v2-123456789012-us-east-1-data"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:adsbridge-v2-notifications"
OTHER_QUEUE = "arn:aws:sqs:us-east-1:123456789012:adsbridge-v2-other"
STACK_RESOURCE = {
    "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/AdsbridgeStreamV2/0f1e2d3c",
    "LogicalResourceId": "V2SubscriptionAdsperformancev1",
}


def props(queue: str = QUEUE) -> dict[str, str]:
    return {
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:provider",
        "Realm": "NA",
        "AdvertiserAccountId": ACCOUNT,
        "DatasetId": "ads-performance-v1",
        "BucketArn": BUCKET,
        "QueueArn": queue,
    }


def event(kind: str, request: int, **extra: Any) -> dict[str, Any]:
    request_id = f"5f3b2f0e-6c1d-4a53-9f55-2b8a1c9e7d{request:02d}"
    return {"RequestType": kind, "RequestId": request_id, "ResourceProperties": props(), **STACK_RESOURCE, **extra}


@pytest.fixture
def streams(client: Any) -> StreamsV2Client:
    return StreamsV2Client(client.session)


@pytest.fixture
def handle(streams: StreamsV2Client) -> Any:
    return lambda e: on_event(e, lambda realm: streams)


def statuses(streams: StreamsV2Client) -> dict[str, str]:
    return {s.subscription_id: s.status for s in streams.query(ACCOUNT)}


def test_create_update_delete(handle: Any, streams: StreamsV2Client) -> None:
    created = handle(event("Create", 1))
    first = created["PhysicalResourceId"]
    assert created["Data"] == {"SubscriptionId": first}
    assert handle(event("Create", 2))["PhysicalResourceId"] == first  # a retried Create gets the same one

    same = event("Update", 3, PhysicalResourceId=first, OldResourceProperties=props())
    assert handle(same)["PhysicalResourceId"] == first

    moved = event("Update", 4, PhysicalResourceId=first, OldResourceProperties=props())
    moved["ResourceProperties"] = props(OTHER_QUEUE)
    second = handle(moved)["PhysicalResourceId"]
    assert second != first
    assert statuses(streams) == {first: "ACTIVE", second: "ACTIVE"}

    # A failed stack rolls the Update back: the old properties again, with the new id; the old one is still live.
    back = event("Update", 5, PhysicalResourceId=second, OldResourceProperties=props(OTHER_QUEUE))
    assert handle(back)["PhysicalResourceId"] == first
    handle(event("Delete", 6, PhysicalResourceId=second))  # the rollback's cleanup
    assert statuses(streams) == {first: "ACTIVE", second: "ARCHIVED"}

    handle(event("Delete", 7, PhysicalResourceId=first))
    handle(event("Delete", 8, PhysicalResourceId=first))  # already archived: done
    assert statuses(streams) == {first: "ARCHIVED", second: "ARCHIVED"}

    again = handle(event("Create", 9))["PhysicalResourceId"]  # the same properties after a Delete: a new one
    assert again not in (first, second) and statuses(streams)[again] == "ACTIVE"


def test_another_account_or_dataset_subscribes_anew(handle: Any, streams: StreamsV2Client) -> None:
    first = handle(event("Create", 1))["PhysicalResourceId"]
    other = "amzn1.ads-account.g.3x7kq9m2p4r6t8v0w1y3z5b7d"
    moved = event("Update", 2, PhysicalResourceId=first, OldResourceProperties=props())
    moved["ResourceProperties"] = {**props(), "AdvertiserAccountId": other}
    second = handle(moved)["PhysicalResourceId"]
    assert [s.subscription_id for s in streams.query(other)] == [second]


def test_delete_of_an_id_never_issued_or_unknown_does_nothing(handle: Any, emulator: Emulator) -> None:
    handle(event("Delete", 1, PhysicalResourceId="5f3b2f0e-6c1d-4a53-9f55-2b8a1c9e7d01"))
    handle(event("Delete", 2, PhysicalResourceId="amzn1.fead.cs2.unknown"))
    assert [r.path for r in emulator.request_log() if r.path.startswith("/adsApi")] == [
        "/adsApi/v1/retrieve/streamSubscriptions"
    ]


def test_a_subscription_made_by_hand_is_not_taken_over(handle: Any, streams: StreamsV2Client) -> None:
    by_hand = streams.create(ACCOUNT, "ads-performance-v1", BUCKET, QUEUE).subscription_id
    with pytest.raises(SubscriptionFailed, match=rf"{by_hand} already delivers .*adsbridge streams v2 archive"):
        handle(event("Create", 1))
    assert statuses(streams) == {by_hand: "ACTIVE"}
