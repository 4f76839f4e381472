"""``adsbridge streams v2 list|create|get|archive`` against the emulator, through the environment variables."""

from __future__ import annotations

import json

import pytest

from adsbridge_sandbox.emulator import Emulator
from tests.integration.test_streams_cli import as_json, run

ACCOUNT = ("--realm", "NA", "--account", "amzn1.ads-account.g.akzidxc3q1tgxm4lfb3h4j8ij")
BUCKET = "arn:aws:s3:::adsbridge-v2-123456789012-us-east-1-data"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:adsbridge-v2-notifications"
CREATE = ("v2", "create", *ACCOUNT, "--bucket-arn", BUCKET, "--queue-arn", QUEUE)


def test_create_list_get_archive(emulator_env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    [created] = as_json(capsys, *CREATE)
    assert (created["dataSetId"], created["status"], created["bucketArn"], created["queueArn"]) == (
        "ads-performance-v1",
        "ACTIVE",
        BUCKET,
        QUEUE,
    )
    sid = created["subscriptionId"]

    assert run("v2", "list", *ACCOUNT) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["SUBSCRIPTION", "ID", "DATASET", "STATUS", "BUCKET", "QUEUE", "UPDATED"]
    assert len(table) == 2 and sid in table[1]

    assert [r["status"] for r in as_json(capsys, "v2", "archive", *ACCOUNT, sid)] == ["ARCHIVED"]
    assert [r["status"] for r in as_json(capsys, "v2", "get", *ACCOUNT, sid)] == ["ARCHIVED"]


def test_refusals_are_one_line_and_exit_1(emulator_env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("v2", "create", *ACCOUNT, "--bucket-arn", "my-bucket", "--queue-arn", QUEUE) == 1
    err = capsys.readouterr().err
    assert err.startswith("adsbridge streams v2 create: bucketArn") and err.count("\n") == 1

    assert run("v2", "get", *ACCOUNT, "amzn1.fead.cs2.nosuchsubscription") == 1
    assert "NOT_FOUND" in capsys.readouterr().err


def test_a_second_create_prints_the_first_before_failing(
    emulator_env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same dataset twice: the first is created and shown, the second refused as a duplicate."""
    capsys.readouterr()
    assert run(*CREATE, "--dataset", "ads-performance-v1", "--dataset", "ads-performance-v1", "--json") == 1
    out = capsys.readouterr()
    assert [r["status"] for r in json.loads(out.out)] == ["ACTIVE"]
    assert "already delivers" in out.err


def test_v1_commands_are_unchanged(emulator_env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert as_json(capsys, "list", "--realm", "NA", "--profile", "3519471835403213") == []
