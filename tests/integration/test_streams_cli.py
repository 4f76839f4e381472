"""``adsbridge streams list|subscribe|archive|status`` against the emulator, through the environment variables."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest

from adsbridge.stream import cli as streams_cli
from adsbridge_sandbox.emulator import Emulator

PROFILE = ("--realm", "NA", "--profile", "3519471835403213")


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    streams_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["streams", *argv])
    return int(args.func(args))


def as_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    capsys.readouterr()
    assert run(*argv, "--json") == 0
    return json.loads(capsys.readouterr().out)


def subscribe(*datasets: str) -> tuple[str, ...]:
    picked = [arg for dataset in datasets for arg in ("--dataset", dataset)]
    return ("subscribe", *PROFILE, "--account-id", "123456789012", *picked)


def test_subscribe_list_status_archive(emulator_env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    created = as_json(capsys, *subscribe("sp-traffic", "sd-traffic"))
    assert [(r["dataSetId"], r["status"]) for r in created] == [
        ("sp-traffic", "PENDING_CONFIRMATION"),
        ("sd-traffic", "PENDING_CONFIRMATION"),
    ]
    assert created[0]["destinationArn"] == "arn:aws:sqs:us-east-1:123456789012:adsbridge-sp-traffic"
    first = created[0]["subscriptionId"]

    assert run("list", *PROFILE) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["SUBSCRIPTION", "ID", "DATASET", "STATUS", "DESTINATION", "UPDATED"]
    assert len(table) == 3 and first in table[1]

    archived = as_json(capsys, "archive", *PROFILE, first)
    assert archived[0]["status"] == "ARCHIVED"
    statuses = as_json(capsys, "status", *PROFILE, first, created[1]["subscriptionId"])
    assert [r["status"] for r in statuses] == ["ARCHIVED", "PENDING_CONFIRMATION"]


def test_dsp_advertiser_subscriptions(emulator_env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    owner = ("--realm", "NA", "--dsp-advertiser", "585193847120")
    created = as_json(capsys, "subscribe", *owner, "--account-id", "123456789012", "--dataset", "adsp-traffic")
    assert created[0]["dataSetId"] == "adsp-traffic"
    assert [r["subscriptionId"] for r in as_json(capsys, "list", *owner)] == [created[0]["subscriptionId"]]


def test_limit_error_reports_what_was_done(emulator_env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(*subscribe("sp-traffic")) == 0
    capsys.readouterr()
    assert run(*subscribe("sd-traffic", "sp-traffic")) == 1
    out, err = capsys.readouterr()
    assert "sd-traffic" in out
    assert "HTTP 400" in err and "already delivers sp-traffic" in err


@pytest.mark.parametrize(
    ("datasets", "message"),
    [(("sp-nope",), "sp-nope"), (("adsp-traffic",), "adsp-traffic needs --dsp-advertiser")],
)
def test_bad_datasets_are_usage_errors_before_any_call(
    emulator_env: Emulator, capsys: pytest.CaptureFixture[str], datasets: tuple[str, ...], message: str
) -> None:
    assert run(*subscribe("sp-traffic", *datasets)) == 2
    assert message in capsys.readouterr().err
    assert not [r for r in emulator_env.request_log() if r.path.startswith("/streams")]


def test_empty_list(emulator_env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("list", *PROFILE) == 0
    assert capsys.readouterr().out.strip() == "no subscriptions"
