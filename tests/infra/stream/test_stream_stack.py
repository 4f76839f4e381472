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
from tests.infra.policies import XRAY_ACTIONS, _as_list, assert_only_xray_on_wildcards

from adsbridge.stream import datasets
from adsbridge.stream.datasets import Realm
from adsbridge.stream.views import table_columns, views

ACCOUNTS = json.loads((resources.files("adsbridge.stream") / "data/ams_sns_source_accounts.json").read_text())


@cache
def templates() -> dict[Realm, Template]:
    config = StreamConfig.parse({"realms": ["NA", "EU", "FE"], "alarm_email": "ops@example.com"})
    stacks = build_stream_stacks(build_app(), config)
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
            "MessageRetentionPeriod": 7 * 86400,
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
            "ScalingConfig": {"MaximumConcurrency": 5},
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
        # the very columns the views' Sources digest (adsbridge.stream.views.table_columns)
        dataset = next(d for d in datasets.catalogue().values() if d.table == table["Properties"]["TableInput"]["Name"])
        glue_columns = table["Properties"]["TableInput"]["StorageDescriptor"]["Columns"]
        assert [(c["Name"], c["Type"]) for c in glue_columns] == table_columns(dataset)
        assert [c["Name"] for c in table["Properties"]["TableInput"]["PartitionKeys"]] == ["dt", "hour"]
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
        ({"realms": ["NA"], "alarm_email": "ops"}, "alarm_email"),
        ({"realms": ["NA"], "ingest_max_concurrency": 1}, "ingest_max_concurrency"),
        ({"realms": ["NA"], "alarm_topic_arns": {"NA": "arn:aws:sns:eu-west-1:123456789012:ops"}}, "us-east-1"),
        ({"realms": ["NA"], "alarm_topic_arns": {"EU": "arn:aws:sns:eu-west-1:123456789012:ops"}}, "not among"),
        (
            {
                "realms": ["NA"],
                "alarm_email": "a@b.co",
                "alarm_topic_arns": {"NA": "arn:aws:sns:us-east-1:123456789012:o"},
            },
            "alternatives",
        ),
    ],
)
def test_bad_config_names_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        StreamConfig.parse(raw)


def _statements(template: Template, role_prefix: str) -> list[dict[str, Any]]:
    """Every statement of the inline policies on the role whose logical id starts with ``role_prefix``."""
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if any(r["Ref"].startswith(role_prefix) for r in policy["Properties"]["Roles"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_one_view_resource_per_rendered_view_with_its_exact_sql_in_dependency_order() -> None:
    template = templates()[Realm.FE]
    expected = views("adsbridge_stream_fe", datasets.catalogue().values())
    resources = template.find_resources("Custom::AthenaView")
    assert len(resources) == len(expected) == 49  # + budget history, Openbridge names
    by_view = {r["Properties"]["View"]: (logical, r) for logical, r in resources.items()}
    previous = None
    for view in expected:
        logical, resource = by_view[view.name]
        assert resource["Properties"]["Sql"] == view.sql
        assert resource["Properties"]["Sources"] == view.sources  # re-created when a source table's columns change
        assert resource["Properties"]["Database"] == "adsbridge_stream_fe"
        if previous:  # a linear chain: each view waits for the one listed before it
            assert previous in resource["DependsOn"]
        else:
            assert {"WorkGroup", *template.find_resources("AWS::Glue::Table")} <= set(resource["DependsOn"])
        previous = logical
    assert by_view["sp_traffic_dedup"][0] in by_view["sp_traffic_hourly"][1]["DependsOn"]
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "adsbridge.stream.handlers.view_installer.lambda_handler",
            "Environment": {"Variables": Match.object_like({"WORKGROUP": "adsbridge-stream-fe"})},
        },
    )


def test_view_installer_may_touch_only_the_workgroup_the_views_and_the_results() -> None:
    template = templates()[Realm.NA]
    by_action = {
        a: json.dumps(s["Resource"]) for s in _statements(template, "ViewsInstallerRole") for a in _as_list(s["Action"])
    }
    assert set(by_action) - {"logs:CreateLogStream", "logs:PutLogEvents"} - XRAY_ACTIONS == {
        "athena:StartQueryExecution",
        "athena:GetQueryExecution",
        "glue:GetDatabase",
        "glue:GetTable",
        "glue:CreateTable",
        "glue:UpdateTable",
        "glue:DeleteTable",
        "s3:GetBucketLocation",
        "s3:ListBucket",
        "s3:PutObject",
        "s3:GetObject",
    }
    assert by_action["athena:StartQueryExecution"].endswith(':workgroup/adsbridge-stream-na"]]}')
    assert ":table/adsbridge_stream_na/*" in by_action["glue:GetTable"]  # read-only, own database
    writes = by_action["glue:CreateTable"]
    assert "*" not in writes
    view_names = [v.name for v in views("adsbridge_stream_na", datasets.catalogue().values())]
    assert writes.count(":table/adsbridge_stream_na/") == len(view_names)
    assert all(f':table/adsbridge_stream_na/{v}"' in writes for v in view_names)
    assert by_action["s3:PutObject"].count('"/results/*"') == 1 and "AthenaResults" in by_action["s3:PutObject"]
    assert not template.find_resources("AWS::IAM::ManagedPolicy")  # no overflow policy the views could outrun


def _alarms(template: Template, metric: str) -> list[dict[str, Any]]:
    return [
        a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == metric
    ]


def _queue_of(alarm: dict[str, Any]) -> str:
    [dimension] = alarm["Dimensions"]
    assert dimension["Name"] == "QueueName"
    return str(dimension["Value"]["Fn::GetAtt"][0])


def test_an_alarm_per_dlq_depth_per_queue_age_and_on_ingest_errors_notifying_the_encrypted_topic() -> None:
    template = templates()[Realm.NA]
    queues = _queue_ids(template)
    dlqs = {
        props["Properties"]["QueueName"]: logical
        for logical, props in template.find_resources("AWS::SQS::Queue").items()
        if props["Properties"]["QueueName"].endswith("-dlq")
    }
    depth = _alarms(template, "ApproximateNumberOfMessagesVisible")
    assert sorted(map(_queue_of, depth)) == sorted(dlqs.values())
    assert {(a["Threshold"], a["ComparisonOperator"], a["Statistic"]) for a in depth} == {
        (0, "GreaterThanThreshold", "Maximum")
    }
    age = _alarms(template, "ApproximateAgeOfOldestMessage")
    assert sorted(map(_queue_of, age)) == sorted(queues.values())
    assert {(a["Threshold"], a["ComparisonOperator"]) for a in age} == {(3600, "GreaterThanThreshold")}
    [errors] = _alarms(template, "Errors")
    assert errors["Namespace"] == "AWS/Lambda" and errors["Threshold"] == 0
    assert errors["Dimensions"][0]["Value"]["Ref"].startswith("IngestFunction")

    [topic] = template.find_resources("AWS::SNS::Topic")
    alarms = template.find_resources("AWS::CloudWatch::Alarm").values()
    assert len(alarms) == 23 + 23 + 1
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": topic}] for a in alarms)
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"})
    assert_cloudwatch_may_publish(template, topic)


def assert_cloudwatch_may_publish(template: Template, topic: str) -> None:
    """The topic policy keeps the TLS deny and lets CloudWatch publish, the key lets it encrypt, both only on
    behalf of this account."""
    [policy] = template.find_resources("AWS::SNS::TopicPolicy").values()
    assert policy["Properties"]["Topics"] == [{"Ref": topic}]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )
    [publish] = [s for s in statements if s["Effect"] == "Allow"]
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and publish["Action"] == "sns:Publish"
    assert publish["Resource"] == {"Ref": topic}
    _assert_this_account_only(publish["Condition"])
    [key] = template.find_resources("AWS::KMS::Key").values()
    assert template.find_resources("AWS::SNS::Topic")[topic]["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][1] == "Arn"
    [grant] = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert sorted(_as_list(grant["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    _assert_this_account_only(grant["Condition"])


def _assert_this_account_only(condition: dict[str, Any]) -> None:
    assert condition == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_without_an_alarm_target_the_topic_is_still_created_so_every_alarm_can_notify() -> None:
    """An alarm without an action notifies no one; the operator subscribes to the topic the stack outputs."""
    [stack] = build_stream_stacks(build_app(), StreamConfig.parse({"realms": ["EU"], "datasets": ["sp-traffic"]}))
    template = Template.from_stack(stack)
    [topic] = template.find_resources("AWS::SNS::Topic")
    template.resource_count_is("AWS::SNS::Subscription", 0)
    alarms = template.find_resources("AWS::CloudWatch::Alarm").values()
    assert len(alarms) == 3
    assert all(a["Properties"]["AlarmActions"] == a["Properties"]["OKActions"] == [{"Ref": topic}] for a in alarms)
    assert template.to_json()["Outputs"]["AlarmTopicArn"]["Value"] == {"Ref": topic}
    assert_cloudwatch_may_publish(template, topic)


def test_a_dead_lettered_message_outlives_its_source_queue_retention() -> None:
    """A DLQ keeps a message's original enqueue time: with equal retention it would expire on arrival."""
    template = templates()[Realm.FE]
    queues = template.find_resources("AWS::SQS::Queue")
    for props in (q["Properties"] for q in queues.values() if "RedrivePolicy" in q["Properties"]):
        dlq = queues[props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]]["Properties"]
        assert dlq["MessageRetentionPeriod"] - props["MessageRetentionPeriod"] >= 7 * 86400, props["QueueName"]


def test_the_raw_bucket_expires_noncurrent_versions_and_athena_is_pinned_to_engine_3() -> None:
    template = templates()[Realm.NA]
    [raw] = [
        b["Properties"]
        for b in template.find_resources("AWS::S3::Bucket").values()
        if b["Properties"].get("VersioningConfiguration") == {"Status": "Enabled"}
    ]
    [rule] = raw["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled" and rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    template.has_resource_properties(
        "AWS::Athena::WorkGroup",
        {
            "WorkGroupConfiguration": Match.object_like(
                {"EngineVersion": {"SelectedEngineVersion": "Athena engine version 3"}}
            )
        },
    )


def test_the_dashboard_shows_queues_dlqs_ingest_and_objects_written() -> None:
    template = templates()[Realm.EU]
    [dashboard] = template.find_resources("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == "adsbridge-stream-eu"
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in (
        "NumberOfMessagesReceived",
        "NumberOfMessagesDeleted",
        "ApproximateNumberOfMessagesVisible",
        "Errors",
        "Duration",
        "ConcurrentExecutions",
        "ObjectsWritten",
    ):
        assert f'\\"{metric}\\"' in body, metric
    assert '\\"adsbridge\\",\\"ObjectsWritten\\",\\"service\\",\\"stream-ingest\\"' in body


def test_alarms_can_notify_the_operators_own_topic_instead() -> None:
    arn = "arn:aws:sns:us-east-1:123456789012:ops"
    [stack] = build_stream_stacks(build_app(), StreamConfig.parse({"realms": ["NA"], "alarm_topic_arns": {"NA": arn}}))
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SNS::Topic", 0)
    alarms = template.find_resources("AWS::CloudWatch::Alarm").values()
    assert {json.dumps(a["Properties"]["AlarmActions"]) for a in alarms} == {json.dumps([arn])}
    assert "AlarmTopicArn" not in template.to_json().get("Outputs", {})
