"""The hourly monitor's v2 counts against the emulator, and the deployed Lambdas with their secret in moto."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

import pytest

from adsbridge.ads.streams_v2 import StreamsV2Client
from adsbridge.stream.datasets import Realm
from adsbridge.stream.subscription_monitor import metric_name, run
from adsbridge_sandbox.emulator import Emulator

os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "adsbridge")  # as AdsbridgeFunction sets it

from adsbridge.stream.handlers import subscription_monitor, v2_subscription_resource
from adsbridge_sandbox.local_lambda import LocalContext
from tests.integration.test_subscription_lambdas import deployed  # noqa: F401  (a fixture)
from tests.integration.test_v2_subscription_resource import ACCOUNT, BUCKET, QUEUE, STACK_RESOURCE, props

NOW = datetime(2026, 12, 6, 14, 0, tzinfo=UTC)


def test_v2_statuses_are_counted_zeros_included(client: Any, emulator: Emulator) -> None:
    streams = StreamsV2Client(client.session)
    made = [streams.create(ACCOUNT, "ads-performance-v1", BUCKET, f"{QUEUE}-{i}").subscription_id for i in range(3)]
    emulator.subscriptions_v2.set_status(made[0], "SUSPENDED")
    streams.delete(ACCOUNT, [made[1]])

    def no_v1(realm: Any) -> Any:
        raise AssertionError("no v1 owners configured: the v1 API is not called")

    counts = run(no_v1, Realm.NA, [], [ACCOUNT], NOW, lambda realm: streams)
    assert counts == {
        "V2_PROVISIONING": 0,
        "V2_ACTIVE": 1,
        "V2_FAILED_PROVISIONING": 0,
        "V2_SUSPENDED": 1,
        "V2_ARCHIVED": 1,
    }
    assert metric_name("V2_FAILED_PROVISIONING") == "SubscriptionsV2FailedProvisioning"


@pytest.fixture
def deployed_v2(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The v1 test's deployment (secret in moto, emulator in the environment), watching v2 accounts only."""
    emulator: Emulator = request.getfixturevalue("deployed")
    monkeypatch.setenv("REALM", "NA")
    monkeypatch.setenv("V2_ACCOUNTS", json.dumps([ACCOUNT]))
    monkeypatch.delenv("OWNERS")
    return emulator


def test_custom_resource_then_monitor(deployed_v2: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    event = {"RequestType": "Create", "RequestId": "5f3b2f0e-6c1d-4a53-9f55-2b8a1c9e7d11", **STACK_RESOURCE}
    created = v2_subscription_resource.lambda_handler(
        {**event, "ResourceProperties": props()},
        LocalContext(),  # type: ignore[arg-type]
    )
    deployed_v2.subscriptions_v2.set_status(created["PhysicalResourceId"], "FAILED_PROVISIONING")
    capsys.readouterr()

    counts = subscription_monitor.lambda_handler({}, LocalContext())  # type: ignore[arg-type]

    assert counts["V2_FAILED_PROVISIONING"] == 1
    [emf] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert (emf["SubscriptionsV2FailedProvisioning"], emf["SubscriptionsV2Active"]) == ([1.0], [0.0])
