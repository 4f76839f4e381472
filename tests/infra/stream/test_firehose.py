"""Firehose delivery (``stream.delivery``): per dataset a delivery stream into the raw layout, Amazon's two roles
with exactly their principals, actions and resources, no queue or ingest; SQS realms unchanged; cdk-nag clean."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from aws_cdk.assertions import Template
from infra.app import build_app
from infra.stream.config import ConfigError, StreamConfig
from infra.stream.firehose import partition_query
from infra.stream.stack import StreamStack, build_stream_stacks

from adsbridge.stream import datasets
from adsbridge.stream.datasets import Realm
from adsbridge.stream.envelope import MalformedMessage
from adsbridge.stream.partition import partition_of

CHOSEN = ("sp-traffic", "campaigns", "adsp-traffic")
SUBSCRIBER = "arn:aws:iam::926844853897:role/SubscriberRole"
REVIEWER = "arn:aws:iam::926844853897:role/ReviewerRole"
STREAM = "AWS::KinesisFirehose::DeliveryStream"


PROFILE = "3519471835403213"


@cache
def templates() -> dict[Realm, Template]:
    config = StreamConfig.parse(
        {
            "realms": ["NA", "EU", "FE"],
            "datasets": list(CHOSEN),
            "delivery": {"EU": "firehose", "FE": "firehose"},
            "secret_name": "adsbridge/amazon-ads/main",
            "subscriptions": [{"profile_id": PROFILE, "realm": "EU"}],
        }
    )
    stacks = build_stream_stacks(build_app(), config)
    return {stack.realm: Template.from_stack(stack) for stack in stacks if isinstance(stack, StreamStack)}  # nag


def _streams(template: Template) -> dict[str, tuple[str, dict[str, Any]]]:
    """dataset id → (logical id, ExtendedS3DestinationConfiguration)."""
    found = {}
    for logical_id, resource in template.find_resources(STREAM).items():
        destination = resource["Properties"]["ExtendedS3DestinationConfiguration"]
        found[destination["Prefix"].split("/")[0].removeprefix("dataset=")] = (logical_id, destination)
    return found


def _roles(template: Template, description: str) -> dict[str, dict[str, Any]]:
    """dataset id → role properties, for the roles whose description names the dataset after ``description``."""
    roles = template.find_resources("AWS::IAM::Role")
    return {
        dataset_id: role["Properties"]
        for role in roles.values()
        for dataset_id in CHOSEN
        if role["Properties"].get("Description", "").startswith(description.format(dataset_id))
    }


@pytest.mark.parametrize("realm", [Realm.EU, Realm.FE])
def test_a_firehose_realm_has_a_stream_per_dataset_and_no_queue_or_ingest(realm: Realm) -> None:
    template = templates()[realm]
    assert sorted(_streams(template)) == sorted(CHOSEN)
    assert not template.find_resources("AWS::SQS::Queue")
    assert not template.find_resources("AWS::Lambda::EventSourceMapping")
    assert not [f for f in template.find_resources("AWS::Lambda::Function") if f.startswith("Ingest")]


def test_an_sqs_realm_is_unchanged() -> None:
    template = templates()[Realm.NA]
    assert not template.find_resources(STREAM)
    assert len(template.find_resources("AWS::SQS::Queue")) == 2 * len(CHOSEN)
    assert len(template.find_resources("AWS::Lambda::EventSourceMapping")) == len(CHOSEN)


@pytest.mark.parametrize("realm", [Realm.EU, Realm.FE])
def test_streams_write_the_ingest_layout_newline_delimited_gzip_with_errors_aside(realm: Realm) -> None:
    template = templates()[realm]
    [raw] = [k for k in template.find_resources("AWS::S3::Bucket") if k.startswith("Raw")]
    for dataset_id, (_, destination) in _streams(template).items():
        assert destination["BucketARN"] == {"Fn::GetAtt": [raw, "Arn"]}
        assert destination["Prefix"] == (
            f"dataset={dataset_id}/dt=!{{partitionKeyFromQuery:dt}}/hour=!{{partitionKeyFromQuery:hour}}/"
        )
        assert destination["ErrorOutputPrefix"].startswith(f"firehose-errors/dataset={dataset_id}/")
        assert "!{firehose:error-output-type}" in destination["ErrorOutputPrefix"]
        assert destination["CompressionFormat"] == "GZIP" and destination["FileExtension"] == ".json.gz"
        assert destination["DynamicPartitioningConfiguration"] == {"Enabled": True}
        assert destination["BufferingHints"] == {"IntervalInSeconds": 300, "SizeInMBs": 64}
        assert destination["CloudWatchLoggingOptions"]["Enabled"] is True
        processors = {p["Type"]: p["Parameters"] for p in destination["ProcessingConfiguration"]["Processors"]}
        assert processors["AppendDelimiterToRecord"] == [{"ParameterName": "Delimiter", "ParameterValue": "\\n"}]
        extraction = {p["ParameterName"]: p["ParameterValue"] for p in processors["MetadataExtraction"]}
        assert extraction == {
            "MetadataExtractionQuery": partition_query(datasets.get(dataset_id)),
            "JsonParsingEngine": "JQ-1.6",
        }
    for stream in template.find_resources(STREAM).values():
        assert stream["Properties"]["DeliveryStreamEncryptionConfigurationInput"] == {"KeyType": "AWS_OWNED_CMK"}


@pytest.mark.parametrize("realm", [Realm.EU, Realm.FE])
def test_subscription_role_trusts_sns_and_the_reviewer_and_only_puts_records_into_its_stream(realm: Realm) -> None:
    template = templates()[realm]
    streams = _streams(template)
    roles = _roles(template, "Amazon's SNS topics put {} records")
    assert sorted(roles) == sorted(CHOSEN)
    for dataset_id, role in roles.items():
        sns, reviewer = sorted(role["AssumeRolePolicyDocument"]["Statement"], key=lambda s: "AWS" in s["Principal"])
        assert sns["Principal"] == {"Service": "sns.amazonaws.com"} and sns["Action"] == "sts:AssumeRole"
        account = datasets.get(dataset_id).accounts[realm]
        assert sns["Condition"] == {  # only Amazon's topics for this dataset in this realm
            "ArnLike": {"aws:SourceArn": f"arn:aws:sns:{realm.aws_region}:{account}:*"},
            "StringEquals": {"aws:SourceAccount": account},
        }
        assert reviewer == {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"AWS": REVIEWER}}
        [policy] = role["Policies"]
        [statement] = policy["PolicyDocument"]["Statement"]
        assert statement["Action"] == ["firehose:PutRecord", "firehose:PutRecordBatch"]
        assert statement["Resource"] == {"Fn::GetAtt": [streams[dataset_id][0], "Arn"]}


@pytest.mark.parametrize("realm", [Realm.EU, Realm.FE])
def test_subscriber_role_trusts_amazons_subscriber_role_to_subscribe_only_that_datasets_topics(realm: Realm) -> None:
    template = templates()[realm]
    resources = template.to_json()["Resources"]
    roles = _roles(template, "Amazon subscribes the {} delivery stream")
    assert sorted(roles) == sorted(CHOSEN)
    for dataset_id, role in roles.items():
        [trust] = role["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"AWS": SUBSCRIBER} and "Condition" not in trust
        assert sorted(trust["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
        [policy] = role["Policies"]
        pass_role, subscribe = policy["PolicyDocument"]["Statement"]
        assert pass_role["Action"] == "iam:PassRole"
        passed = pass_role["Resource"]["Fn::GetAtt"][0]
        assert resources[passed]["Properties"]["Description"].startswith(f"Amazon's SNS topics put {dataset_id} ")
        assert subscribe["Action"] == ["sns:Subscribe", "sns:Unsubscribe"]
        account = datasets.get(dataset_id).accounts[realm]
        assert subscribe["Resource"] == f"arn:aws:sns:{realm.aws_region}:{account}:*"


@pytest.mark.parametrize("realm", [Realm.EU, Realm.FE])
def test_delivery_role_writes_only_the_datasets_prefixes_and_the_error_prefix(realm: Realm) -> None:
    template = templates()[realm]
    [(role_id, role)] = [
        (k, r) for k, r in template.find_resources("AWS::IAM::Role").items() if k.startswith("FirehoseDeliveryRole")
    ]
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "firehose.amazonaws.com"}
    this_account = {"Ref": "AWS::AccountId"}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": this_account, "aws:SourceAccount": this_account}}
    [policy] = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in template.find_resources("AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    puts = next(s for s in policy if "s3:PutObject" in s["Action"])
    suffixes = sorted(part["Fn::Join"][1][1] for part in puts["Resource"])
    assert suffixes == sorted([*(f"/dataset={d}/*" for d in CHOSEN), "/firehose-errors/*"])


def test_subscriptions_name_the_stream_and_both_roles_and_wait_for_them() -> None:
    template = templates()[Realm.EU]
    streams = _streams(template)
    resources = template.find_resources("Custom::MarketingStreamSubscription")
    assert len(resources) == 2  # the profile's sponsored-ads datasets: sp-traffic and campaigns
    for resource in resources.values():
        props = resource["Properties"]
        dataset_id = props["DatasetId"]
        assert "QueueArn" not in props
        assert props["DeliveryStreamArn"] == {"Fn::GetAtt": [streams[dataset_id][0], "Arn"]}
        subscription_role = props["SubscriptionRoleArn"]["Fn::GetAtt"][0]
        subscriber_role = props["SubscriberRoleArn"]["Fn::GetAtt"][0]
        assert subscription_role.startswith("FirehoseSubscriptionRole")
        assert subscriber_role.startswith("FirehoseSubscriberRole")
        assert {subscription_role, subscriber_role} <= set(resource["DependsOn"])


def test_a_stale_stream_alarms() -> None:
    template = templates()[Realm.EU]
    alarms = [a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()]
    freshness = [a for a in alarms if a["MetricName"] == "DeliveryToS3.DataFreshness"]
    assert len(freshness) == len(CHOSEN) and {a["Threshold"] for a in freshness} == {3600}


@pytest.mark.parametrize(
    ("delivery", "message"),
    [
        ({"JP": "firehose"}, "delivery"),
        ({"EU": "firehose"}, "delivery.EU: EU is not among the realms"),
        ("kinesis", "delivery"),
    ],
)
def test_a_bad_delivery_names_the_field(delivery: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        StreamConfig.parse({"realms": ["NA"], "delivery": delivery})


def test_delivery_is_one_value_for_every_realm_or_per_realm_defaulting_to_sqs() -> None:
    every = StreamConfig.parse({"realms": ["NA", "EU"], "delivery": "firehose"})
    assert [every.delivery_in(r) for r in (Realm.NA, Realm.EU)] == ["firehose", "firehose"]
    some = StreamConfig.parse({"realms": ["NA", "EU"], "delivery": {"EU": "firehose"}})
    assert [some.delivery_in(r) for r in (Realm.NA, Realm.EU)] == ["sqs", "firehose"]
    assert StreamConfig.parse({"realms": ["NA"]}).delivery_in(Realm.NA) == "sqs"


WINDOWS = [
    "2026-12-01T11:00:00+01:00",
    "2022-02-01T10:00:00-08:00",
    "2026-12-05T23:30:00.123Z",
    "2026-12-05T20:00:00-05:30",
    "2021-12-31T23:00:00-08:00",  # the day before the projection in local time, inside it in UTC
    "2019-03-01T10:00:00-08:00",  # before the projection
    "not a time",
    None,
]


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq 1.6, the engine Firehose runs the query with")
@pytest.mark.parametrize("window", WINDOWS)
def test_the_jq_query_files_a_metric_record_where_ingest_does(window: str | None) -> None:
    dataset = datasets.get("sp-traffic")
    record = {} if window is None else {"time_window_start": window}
    run = subprocess.run(
        ["jq", "-c", partition_query(dataset)], input=json.dumps(record), capture_output=True, text=True
    )
    try:
        dt, hour = partition_of(dataset, record, datetime.now(UTC))
    except MalformedMessage:
        assert run.returncode != 0 and not run.stdout  # Firehose files it under the error prefix
        return
    assert json.loads(run.stdout) == {"dt": dt, "hour": hour}


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq 1.6, the engine Firehose runs the query with")
def test_the_jq_query_files_other_records_by_arrival() -> None:
    dataset = datasets.get("campaigns")
    before = datetime.now(UTC)
    run = subprocess.run(["jq", "-c", partition_query(dataset)], input="{}", capture_output=True, text=True)
    after = datetime.now(UTC)
    expected = [dict(zip(("dt", "hour"), partition_of(dataset, {}, moment), strict=True)) for moment in (before, after)]
    assert json.loads(run.stdout) in expected
