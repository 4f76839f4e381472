"""The subscription Lambdas as deployed: credentials from Secrets Manager (moto), Amazon played by the emulator."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from adsbridge_sandbox.emulator import Emulator

os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "adsbridge")  # as AdsbridgeFunction sets it

from adsbridge.stream.handlers import subscription_monitor, subscription_resource
from adsbridge_sandbox.local_lambda import LocalContext
from tests.integration.stream.lambda_event import environment
from tests.integration.test_subscription_resource import STACK_RESOURCE

SECRET = "adsbridge/lwa"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:adsbridge-sp-traffic"


@pytest.fixture
def deployed(emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    for key, value in environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SECRET_NAME", SECRET)
    monkeypatch.setenv("OWNERS", json.dumps([{"id": "3519471835403213", "dsp": False}]))
    c = emulator_env.credentials
    with mock_aws():
        boto3.client("secretsmanager").create_secret(
            Name=SECRET,
            SecretString=json.dumps(
                {"client_id": c.client_id, "client_secret": c.client_secret, "refresh_token": c.refresh_token}
            ),
        )
        yield emulator_env


def test_custom_resource_then_monitor(deployed: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    props = {"Realm": "NA", "OwnerId": "3519471835403213", "Dsp": "false", "DatasetId": "sp-traffic", "QueueArn": QUEUE}
    created = subscription_resource.lambda_handler(
        {
            "RequestType": "Create",
            "RequestId": "5f3b2f0e-6c1d-4a53-9f55-2b8a1c9e7d11",
            "ResourceProperties": props,
            **STACK_RESOURCE,
        },
        LocalContext(),  # type: ignore[arg-type]
    )
    deployed.subscriptions.set_status(created["PhysicalResourceId"], "SUSPENDED")
    capsys.readouterr()

    counts = subscription_monitor.lambda_handler({}, LocalContext())  # type: ignore[arg-type]

    assert counts["SUSPENDED"] == 1
    [emf] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert (emf["SubscriptionsSuspended"], emf["SubscriptionsActive"]) == ([1.0], [0.0])
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "adsbridge"
