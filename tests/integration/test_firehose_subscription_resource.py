"""The v1 subscription custom resource with Firehose delivery, against the emulator: Amazon receives
``destination.firehoseDestination`` with all three ARNs, the subscription is ACTIVE at once (no confirmation),
a retried Create adopts it, and Delete archives it."""

from __future__ import annotations

from typing import Any

from adsbridge.ads import Owner, StreamsClient
from adsbridge.stream.subscription_resource import on_event
from adsbridge_sandbox.emulator import Emulator
from adsbridge_sandbox.emulator.streams import Owner as StoredOwner

PROFILE = Owner("3519471835403213")
STREAM = "arn:aws:firehose:us-east-1:123456789012:deliverystream/AdsbridgeStream-NA-FirehoseStreamsptraffic-x1"
SUBSCRIPTION_ROLE = "arn:aws:iam::123456789012:role/AdsbridgeStream-NA-FirehoseSubscriptionRolesp-x2"
SUBSCRIBER_ROLE = "arn:aws:iam::123456789012:role/AdsbridgeStream-NA-FirehoseSubscriberRolesp-x3"
PROPS = {
    "Realm": "NA",
    "OwnerId": PROFILE.id,
    "Dsp": "false",
    "DatasetId": "sp-traffic",
    "DeliveryStreamArn": STREAM,
    "SubscriptionRoleArn": SUBSCRIPTION_ROLE,
    "SubscriberRoleArn": SUBSCRIBER_ROLE,
}
STACK_RESOURCE = {
    "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/AdsbridgeStream-NA/0f1e2d3c",
    "LogicalResourceId": "SubscriptionsSubscription3519471835403213sptraffic",
}


def event(kind: str, request_id: str, **extra: Any) -> dict[str, Any]:
    return {"RequestType": kind, "RequestId": request_id, "ResourceProperties": PROPS, **STACK_RESOURCE, **extra}


def test_create_sends_the_firehose_destination_and_delete_archives(client: Any, emulator: Emulator) -> None:
    streams = StreamsClient(client.session)
    handle = lambda e: on_event(e, lambda realm: streams)  # noqa: E731
    created = handle(event("Create", "5f3b2f0e-6c1d-4a53-9f55-2b8a1c9e7d21"))["PhysicalResourceId"]
    owner = StoredOwner(PROFILE.id, dsp=False)
    assert emulator.subscriptions.get(owner, created)["subscription"]["destination"] == {  # as the body sent it
        "firehoseDestination": {
            "deliveryStreamArn": STREAM,
            "subscriptionRoleArn": SUBSCRIPTION_ROLE,
            "subscriberRoleArn": SUBSCRIBER_ROLE,
        }
    }
    assert streams.get(PROFILE, created).status == "ACTIVE"
    assert streams.get(PROFILE, created).destination_arn == STREAM
    retried = handle(event("Create", "5f3b2f0e-6c1d-4a53-9f55-2b8a1c9e7d22"))["PhysicalResourceId"]
    assert retried == created  # adopted by its delivery stream and mark, not subscribed twice
    handle(event("Delete", "5f3b2f0e-6c1d-4a53-9f55-2b8a1c9e7d23", PhysicalResourceId=created))
    assert streams.get(PROFILE, created).status == "ARCHIVED"
