"""Each handler's environment model: what the stack writes parses back, and a missing or bad variable is named."""

from __future__ import annotations

import json

import pytest

from adsbridge.ads import Owner
from adsbridge.export.handlers.environment import ExportEnvironment, NotifyEnvironment
from adsbridge.lambda_environment import LambdaEnvironmentError
from adsbridge.stream.datasets import Realm
from adsbridge.stream.handlers.environment import (
    IngestEnvironment,
    MonitorEnvironment,
    SecretEnvironment,
    ViewInstallerEnvironment,
)

SECRET = {"SECRET_NAME": "adsbridge/ads"}


def test_ingest_round_trip() -> None:
    variables = IngestEnvironment.variables(bucket="raw", realm="EU", queue_prefix="adsbridge-")
    assert variables == {"BUCKET": "raw", "REALM": "EU", "QUEUE_PREFIX": "adsbridge-"}
    env = IngestEnvironment.from_environ({**variables, "PATH": "/usr/bin"})
    assert (env.bucket, env.realm, env.queue_prefix) == ("raw", Realm.EU, "adsbridge-")


@pytest.mark.parametrize(
    ("model", "environ", "named"),
    [
        (IngestEnvironment, {"REALM": "NA", "QUEUE_PREFIX": "p"}, "BUCKET"),
        (IngestEnvironment, {"BUCKET": "b", "REALM": "XX", "QUEUE_PREFIX": "p"}, "REALM"),
        (SecretEnvironment, {}, "SECRET_NAME"),
        (MonitorEnvironment, SECRET, "REALM"),
        (MonitorEnvironment, {**SECRET, "REALM": "NA", "OWNERS": "[{'id': 1}]"}, "OWNERS"),
        (MonitorEnvironment, {**SECRET, "REALM": "NA", "V2_ACCOUNTS": '{"a": 1}'}, "V2_ACCOUNTS"),
        (ViewInstallerEnvironment, {}, "WORKGROUP"),
        (ExportEnvironment, {}, "ADSBRIDGE_STATE_BUCKET"),
        (NotifyEnvironment, {"ADSBRIDGE_STATE_BUCKET": "s"}, "ADSBRIDGE_ALARM_TOPICS"),
        (
            NotifyEnvironment,
            {"ADSBRIDGE_STATE_BUCKET": "s", "ADSBRIDGE_ALARM_TOPICS": "arn:x"},
            "ADSBRIDGE_ALARM_TOPICS",
        ),
    ],
)
def test_a_missing_or_bad_variable_is_named(
    model: type[IngestEnvironment], environ: dict[str, str], named: str
) -> None:
    with pytest.raises(LambdaEnvironmentError, match=rf"\b{named}\b"):
        model.from_environ(environ)


def test_monitor_owners_and_accounts_are_optional_and_keep_id_digits() -> None:
    bare = MonitorEnvironment.from_environ({**SECRET, "REALM": "FE", "OWNERS": ""})
    assert (bare.owners, bare.v2_accounts) == ([], [])
    owners = json.dumps([{"id": "3519471835403213"}, {"id": 585193847120, "dsp": True}])
    env = MonitorEnvironment.from_environ({**SECRET, "REALM": "NA", "OWNERS": owners, "V2_ACCOUNTS": '["amzn1.x"]'})
    assert [entry.owner() for entry in env.owners] == [Owner("3519471835403213"), Owner("585193847120", dsp=True)]
    assert env.v2_accounts == ["amzn1.x"]


def test_notify_reads_its_topics() -> None:
    variables = NotifyEnvironment.variables(state_bucket="state", alarm_topics='["arn:aws:sns:us-east-1:1:t"]')
    assert NotifyEnvironment.from_environ(variables).alarm_topics == ["arn:aws:sns:us-east-1:1:t"]


def test_the_stack_side_refuses_an_unknown_or_missing_field() -> None:
    """Names are checked at synthesis; values are not (they are CDK tokens there: tests/infra parses them)."""
    with pytest.raises(ValueError, match=r"unknown \['bukket'\], missing \['bucket'\]"):
        IngestEnvironment.variables(bukket="raw", realm="NA", queue_prefix="p")
    assert SecretEnvironment.variables(secret_name="${Token[TOKEN.1]}") == {"SECRET_NAME": "${Token[TOKEN.1]}"}


def test_a_changed_environment_is_parsed_again() -> None:
    """Parsed once per distinct environment: a warm Lambda reuses it, a test that changes a variable sees it."""
    first = ExportEnvironment.from_environ({"ADSBRIDGE_STATE_BUCKET": "a"})
    assert ExportEnvironment.from_environ({"ADSBRIDGE_STATE_BUCKET": "a"}) is first
    assert ExportEnvironment.from_environ({"ADSBRIDGE_STATE_BUCKET": "b"}).state_bucket == "b"
