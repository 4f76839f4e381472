"""The subscription custom resource's handler against the emulator: CloudFormation's Create/Update/Delete."""

from __future__ import annotations

from typing import Any

import pytest

from adsbridge.ads import Owner, StreamsClient
from adsbridge.stream.subscription_resource import SubscriptionFailed, on_event
from adsbridge_sandbox.emulator import Emulator

PROFILE = Owner("3519471835403213")
QUEUE = "arn:aws:sqs:us-east-1:123456789012:adsbridge-sp-traffic"
OTHER = "arn:aws:sqs:us-east-1:123456789012:other-sp-traffic"


def props(queue: str = QUEUE, dataset: str = "sp-traffic") -> dict[str, str]:
    return {"Realm": "NA", "OwnerId": PROFILE.id, "Dsp": "false", "DatasetId": dataset, "QueueArn": queue}


STACK_RESOURCE = {
    "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/AdsbridgeStreamNA/0f1e2d3c",
    "LogicalResourceId": "SubscriptionsSptraffic3519471835403213",
}


def event(kind: str, request_id: str = "5f3b2f0e-6c1d-4a53-9f55-2b8a1c9e7d11", **extra: Any) -> dict[str, Any]:
    return {"RequestType": kind, "RequestId": request_id, "ResourceProperties": props(), **STACK_RESOURCE, **extra}


@pytest.fixture
def handle(streams: StreamsClient) -> Any:
    return lambda e: on_event(e, lambda realm: streams)


@pytest.fixture
def streams(client: Any) -> StreamsClient:
    return StreamsClient(client.session)


def statuses(streams: StreamsClient) -> dict[str, str]:
    return {s.subscription_id: s.status for s in streams.list(PROFILE)}


def test_create_update_delete(handle: Any, streams: StreamsClient) -> None:
    created = handle(event("Create"))
    first = created["PhysicalResourceId"]
    assert created["Data"] == {"SubscriptionId": first}
    assert handle(event("Create"))["PhysicalResourceId"] == first  # a retried Create adopts, never duplicates

    same = event(
        "Update", "5f3b2f0e-6c1d-4a53-9f55-2b8a1c9e7d12", PhysicalResourceId=first, OldResourceProperties=props()
    )
    assert handle(same)["PhysicalResourceId"] == first

    moved = event(
        "Update", "5f3b2f0e-6c1d-4a53-9f55-2b8a1c9e7d13", PhysicalResourceId=first, OldResourceProperties=props()
    )
    moved["ResourceProperties"] = props(OTHER)
    second = handle(moved)["PhysicalResourceId"]
    assert second != first
    # CloudFormation's cleanup deletes the old physical id.
    handle(event("Delete", "5f3b2f0e-6c1d-4a53-9f55-2b8a1c9e7d14", PhysicalResourceId=first))
    assert statuses(streams) == {first: "ARCHIVED", second: "PENDING_CONFIRMATION"}
    handle(event("Delete", "5f3b2f0e-6c1d-4a53-9f55-2b8a1c9e7d15", PhysicalResourceId=first))  # already archived: done
    assert statuses(streams)[first] == "ARCHIVED"


def test_delete_after_a_failed_create_does_nothing(handle: Any, emulator: Emulator) -> None:
    handle(event("Delete", PhysicalResourceId="5f3b2f0e-6c1d-4a53-9f55-2b8a1c9e7d11"))
    handle(event("Delete", PhysicalResourceId="amzn1.fead.cs1.unknown"))
    assert [r.method for r in emulator.request_log() if r.path.startswith("/streams")] == ["GET"]


def test_limit_error_fails_the_resource_with_advice(handle: Any, streams: StreamsClient) -> None:
    streams.create(PROFILE, "sp-traffic", OTHER)
    streams.create(PROFILE, "sp-traffic", OTHER + "-2")
    with pytest.raises(SubscriptionFailed, match=r"already has 2 subscriptions to sp-traffic.*adsbridge streams list"):
        handle(event("Create"))


def test_a_subscription_made_elsewhere_is_neither_taken_over_nor_archived(handle: Any, streams: StreamsClient) -> None:
    by_hand = streams.create(PROFILE, "sp-traffic", QUEUE, notes="made with adsbridge streams subscribe")
    with pytest.raises(SubscriptionFailed, match=rf"{by_hand} already delivers sp-traffic .* not made by this stack"):
        handle(event("Create"))
    # if anything ever points a Delete at it (a rollback, a renamed resource), it stays live
    handle(event("Delete", "5f3b2f0e-6c1d-4a53-9f55-2b8a1c9e7d12", PhysicalResourceId=by_hand))
    assert statuses(streams) == {by_hand: "PENDING_CONFIRMATION"}


def test_a_renamed_resource_does_not_adopt_its_predecessors_subscription(handle: Any, streams: StreamsClient) -> None:
    old = handle(event("Create"))["PhysicalResourceId"]
    renamed = event("Create", "5f3b2f0e-6c1d-4a53-9f55-2b8a1c9e7d12", LogicalResourceId="SubscriptionsRenamed")
    with pytest.raises(SubscriptionFailed, match="not made by this stack resource"):
        handle(renamed)  # else the old resource's cleanup Delete would archive what the new one adopted
    handle(event("Delete", "5f3b2f0e-6c1d-4a53-9f55-2b8a1c9e7d13", PhysicalResourceId=old))
    assert statuses(streams) == {old: "ARCHIVED"}
