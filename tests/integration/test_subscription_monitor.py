"""The subscription monitor against the emulator: a count per status, stale pending ones, metrics named for the alarms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adsbridge.ads import Owner, StreamsClient
from adsbridge.stream import subscription_monitor
from adsbridge.stream.datasets import Realm
from adsbridge.stream.subscription_monitor import metric_name, run
from adsbridge_sandbox.emulator import Emulator

PROFILE = Owner("3519471835403213")
ADVERTISER = Owner("585193847120", dsp=True)
OWNERS = [PROFILE, ADVERTISER]


def queue(name: str) -> str:
    return f"arn:aws:sqs:us-east-1:123456789012:adsbridge-{name}"


@pytest.fixture
def streams(client: Any) -> StreamsClient:
    return StreamsClient(client.session)


def test_counts_every_status_across_owners(streams: StreamsClient, emulator: Emulator) -> None:
    suspended = streams.create(PROFILE, "sp-traffic", queue("sp-traffic"))
    emulator.subscriptions.set_status(suspended, "SUSPENDED")
    streams.create(PROFILE, "sd-traffic", queue("sd-traffic"))
    streams.create(ADVERTISER, "adsp-traffic", queue("adsp-traffic"))

    counts = run(lambda realm: streams, Realm.NA, OWNERS, [], datetime.now(UTC))
    assert counts["SUSPENDED"] == 1 and counts["PENDING_CONFIRMATION"] == 2
    assert counts["ACTIVE"] == counts["FAILED_CONFIRMATION"] == counts["STALE_PENDING"] == 0

    tomorrow = run(lambda realm: streams, Realm.NA, OWNERS, [], datetime.now(UTC) + timedelta(hours=25))
    assert tomorrow["STALE_PENDING"] == 2


def test_metric_names_match_the_alarms() -> None:
    assert metric_name("SUSPENDED") == "SubscriptionsSuspended"
    assert metric_name("FAILED_CONFIRMATION") == "SubscriptionsFailedConfirmation"
    assert metric_name(subscription_monitor.STALE) == "SubscriptionsStalePending"
