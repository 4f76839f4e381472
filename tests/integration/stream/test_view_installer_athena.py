"""The view installer against moto's Athena: botocore accepts its calls, and every view statement is run in
the stack's workgroup in the order CloudFormation's chain creates them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from adsbridge.stream import datasets
from adsbridge.stream.athena import AthenaRunner
from adsbridge.stream.view_installer import on_event
from adsbridge.stream.views import views

REGION = "eu-west-1"
DATABASE = "adsbridge_stream_eu"
WORKGROUP = "adsbridge-stream-eu"


@pytest.fixture
def athena(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        client = boto3.client("athena", region_name=REGION)
        client.create_work_group(
            Name=WORKGROUP, Configuration={"ResultConfiguration": {"OutputLocation": "s3://results/results/"}}
        )
        yield client


def test_create_then_delete_every_view(athena: Any) -> None:
    runner = AthenaRunner(athena, workgroup=WORKGROUP, poll_seconds=0)
    rendered = views(DATABASE, datasets.catalogue().values())
    for view in rendered:
        event = {
            "RequestType": "Create",
            "ResourceProperties": {"Database": DATABASE, "View": view.name, "Sql": view.sql, "Sources": view.sources},
        }
        assert on_event(event, runner) == {"PhysicalResourceId": f"{DATABASE}.{view.name}"}
    for view in reversed(rendered):
        on_event({"RequestType": "Delete", "ResourceProperties": {"Database": DATABASE, "View": view.name}}, runner)

    ids = athena.list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"]
    queries = [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"] for i in ids]
    assert sorted(q["Query"] for q in queries) == sorted(
        [v.sql for v in rendered] + [f"DROP VIEW IF EXISTS {DATABASE}.{v.name}" for v in rendered]
    )
    assert {q["QueryExecutionContext"]["Database"] for q in queries} == {DATABASE}
    assert {q["Status"]["State"] for q in queries} == {"SUCCEEDED"}
