"""StreamStack per realm: Amazon's queue policy per dataset, queue settings, catalog, nag-clean; other regions refused."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from infra.app import build_app
from infra.stream.config import ConfigError, StreamConfig
from infra.stream.stack import StreamStack, build_stream_stacks
from tests.infra.policies import assert_only_xray_on_wildcards

from adsbridge.stream.datasets import Realm

ACCOUNTS = json.loads((resources.files("adsbridge.stream") / "data/ams_sns_source_accounts.json").read_text())


@cache
def templates() -> dict[Realm, Template]:
    stacks = build_stream_stacks(build_app(), StreamConfig.parse({"realms": ["NA", "EU", "FE"]}))
    return {
        stack.realm: Template.from_stack(stack) for stack in stacks if isinstance(stack, StreamStack)
    }  # nag runs here


def _queue_ids(template: Template) -> dict[str, str]:
    """queue name → logical id."""
    return {
        props["Properties"]["QueueName"]: logical
        for logical, props in template.find_resources("AWS::SQS::Queue").items()
        if not props["Properties"]["QueueName"].endswith("-dlq")
    }


@pytest.mark.parametrize("realm", list(Realm))
def test_every_queue_policy_names_exactly_amazons_account_and_region(realm: Realm) -> None:
    template = templates()[realm]
    queues = _queue_ids(template)
    assert len(queues) == 23
    policies = template.find_resources("AWS::SQS::QueuePolicy")
    by_queue: dict[str, list[dict[str, Any]]] = {}
    for policy in policies.values():
        [ref] = policy["Properties"]["Queues"]
        by_queue[ref["Ref"]] = policy["Properties"]["PolicyDocument"]["Statement"]
    for dataset_id, entry in ACCOUNTS["accounts"].items():
        statements = by_queue[queues[f"adsbridge-{dataset_id}"]]
        sends = [s for s in statements if s["Action"] == "sqs:SendMessage"]
        assert len(sends) == 1
        assert sends[0]["Principal"] == {"Service": "sns.amazonaws.com"}
        expected = f"arn:aws:sns:{ACCOUNTS['_aws_region'][realm.value]}:{entry[realm.value]['account']}:*"
        assert sends[0]["Condition"] == {"ArnLike": {"aws:SourceArn": expected}}
        assert expected == entry[realm.value]["snsSourceArn"]
        reviewer = [s for s in statements if s["Action"] == "sqs:GetQueueAttributes"]
        assert [s["Principal"] for s in reviewer] == [{"AWS": ACCOUNTS["_reviewer_role"]}]


def test_queue_settings_and_event_sources() -> None:
    template = templates()[Realm.NA]
    template.resource_properties_count_is(
        "AWS::SQS::Queue",
        {
            "ReceiveMessageWaitTimeSeconds": 20,
            "MessageRetentionPeriod": 14 * 86400,
            "VisibilityTimeout": 6 * 120,
            "RedrivePolicy": {"deadLetterTargetArn": Match.any_value(), "maxReceiveCount": 5},
        },
        23,
    )
    template.resource_properties_count_is(
        "AWS::Lambda::EventSourceMapping",
        {
            "BatchSize": 10_000,
            "MaximumBatchingWindowInSeconds": 60,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
        23,
    )
    assert "FifoQueue" not in json.dumps(template.to_json())
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"REALM": "NA", "QUEUE_PREFIX": "adsbridge-"})}},
    )
    assert_only_xray_on_wildcards(template)


def test_catalog_uses_partition_projection() -> None:
    template = templates()[Realm.EU]
    tables = template.find_resources("AWS::Glue::Table")
    assert len(tables) == 23
    for table in tables.values():
        params = table["Properties"]["TableInput"]["Parameters"]
        assert params["projection.enabled"] == "true" and params["projection.hour.digits"] == "2"
    template.resource_count_is("AWS::Glue::Crawler", 0)
    template.has_resource_properties(
        "AWS::Athena::WorkGroup",
        {
            "WorkGroupConfiguration": Match.object_like(
                {
                    "EnforceWorkGroupConfiguration": True,
                    "ResultConfiguration": Match.object_like(
                        {"EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}}
                    ),
                }
            )
        },
    )


@pytest.mark.parametrize("region", ["eu-central-1", "us-west-2"])
def test_other_regions_are_refused(region: str) -> None:
    with pytest.raises(ValueError, match=f"only in us-east-1, not {region}"):
        StreamStack(build_app(), "Wrong", realm=Realm.NA, config=StreamConfig.parse({"realms": ["NA"]}), region=region)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"realms": ["APAC"]}, "realms.0"),
        ({"realms": []}, "realms"),
        ({"realms": ["NA"], "datasets": ["retail-sales-metrics"]}, "datasets"),
    ],
)
def test_bad_config_names_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        StreamConfig.parse(raw)
