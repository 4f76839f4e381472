"""StreamV2Stack per (realm, region): Amazon's v2 template's bucket, keys, queue and policies, exactly, in every
allowed region; the region rule; default and refused regions; cdk-nag clean."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from aws_cdk.assertions import Template
from infra.app import build_app
from infra.stream.config import ConfigError, StreamConfig
from infra.stream.v2_stack import StreamV2Stack, build_v2_stacks

from adsbridge.ads.stream_v2_contract import REGIONS
from adsbridge.stream.datasets import Realm

PUBLISHER = "arn:aws:iam::926844853897:role/PublisherRole"
REVIEWER = "arn:aws:iam::926844853897:role/ReviewerRole"
EVERY_REGION = {realm.value: list(regions) for realm, regions in ((r, REGIONS[r.value]) for r in Realm)}
LANDINGS = [(realm, region) for realm in Realm for region in REGIONS[realm.value]]


@cache
def templates() -> dict[tuple[Realm, str], Template]:
    config = StreamConfig.parse(
        {
            "realms": ["NA"],
            "alarm_email": "ops@example.com",
            "v2": {"realms": ["NA", "EU", "FE"], "regions": EVERY_REGION},
        }
    )
    stacks = build_v2_stacks(build_app(), config)
    return {
        (stack.realm, stack.landing_region): Template.from_stack(stack)  # nag runs here
        for stack in stacks
        if isinstance(stack, StreamV2Stack)
    }


def _one(template: Template, kind: str, **match: Any) -> tuple[str, dict[str, Any]]:
    found = template.find_resources(kind, match or None)
    assert len(found) == 1, f"{kind}: {list(found)}"
    [(logical_id, resource)] = found.items()
    return logical_id, resource["Properties"]


def _logical(value: Any) -> str:
    """The logical id a Ref / GetAtt points at."""
    return str(value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0])


def _data_bucket(template: Template) -> tuple[str, dict[str, Any]]:
    return _one(template, "AWS::S3::Bucket", Properties={"VersioningConfiguration": {"Status": "Enabled"}})


def _statements(properties: dict[str, Any]) -> list[dict[str, Any]]:
    return list(properties["PolicyDocument"]["Statement"])


def _key_statements(template: Template, key_id: str) -> list[dict[str, Any]]:
    return list(template.to_json()["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"])


def test_every_allowed_region_gets_one_landing_stack() -> None:
    assert sorted(templates()) == sorted(LANDINGS)
    assert len(LANDINGS) == 6


@pytest.mark.parametrize(("realm", "region"), LANDINGS)
def test_the_stack_refuses_deployment_outside_its_region(realm: Realm, region: str) -> None:
    rule = templates()[(realm, region)].to_json()["Rules"]["V2Region"]
    [assertion] = rule["Assertions"]
    assert assertion["Assert"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, region]}


@pytest.mark.parametrize(("realm", "region"), LANDINGS)
def test_data_bucket_is_kms_encrypted_with_its_key_and_bucket_key_versioned_private_and_logged(
    realm: Realm, region: str
) -> None:
    template = templates()[(realm, region)]
    _, bucket = _data_bucket(template)
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["BucketKeyEnabled"] is True
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    key_id = _logical(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"])
    assert template.to_json()["Resources"][key_id]["Properties"]["EnableKeyRotation"] is True
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert "DestinationBucketName" in bucket["LoggingConfiguration"]


@pytest.mark.parametrize(("realm", "region"), LANDINGS)
def test_bucket_policy_publisher_puts_reviewer_lists_nothing_tls_only(realm: Realm, region: str) -> None:
    template = templates()[(realm, region)]
    bucket_id, _ = _data_bucket(template)
    [policy] = [
        p["Properties"]
        for p in template.find_resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    by_action = {s["Action"] if isinstance(s["Action"], str) else tuple(s["Action"]): s for s in _statements(policy)}
    assert set(by_action) == {"s3:*", "s3:PutObject", "s3:ListBucket"}
    tls = by_action["s3:*"]
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    put = by_action["s3:PutObject"]
    assert put["Effect"] == "Allow" and put["Principal"] == {"AWS": PUBLISHER} and "Condition" not in put
    assert put["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/*"]]}
    listing = by_action["s3:ListBucket"]
    assert listing["Effect"] == "Allow" and listing["Principal"] == {"AWS": REVIEWER}
    assert listing["Resource"] == {"Fn::GetAtt": [bucket_id, "Arn"]}
    assert listing["Condition"] == {"StringNotLike": {"s3:prefix": "*"}}


def _publisher_grants(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in statements if s["Principal"] == {"AWS": PUBLISHER}]


@pytest.mark.parametrize(("realm", "region"), LANDINGS)
def test_data_key_lets_the_publisher_encrypt_only_through_s3_in_this_region(realm: Realm, region: str) -> None:
    template = templates()[(realm, region)]
    _, bucket = _data_bucket(template)
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    key_id = _logical(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"])
    [grant] = _publisher_grants(_key_statements(template, key_id))
    assert sorted(grant["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert grant["Effect"] == "Allow" and grant["Resource"] == "*"
    assert grant["Condition"] == {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}


def _notification_queue(template: Template) -> tuple[str, dict[str, Any]]:
    return _one(template, "AWS::SQS::Queue", Properties={"ReceiveMessageWaitTimeSeconds": 20})


@pytest.mark.parametrize(("realm", "region"), LANDINGS)
def test_notification_queue_settings_and_its_own_key(realm: Realm, region: str) -> None:
    template = templates()[(realm, region)]
    _, queue = _notification_queue(template)
    assert queue["VisibilityTimeout"] == 300
    assert queue["MessageRetentionPeriod"] == 14 * 86_400
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5
    assert "SqsManagedSseEnabled" not in queue
    key_id = _logical(queue["KmsMasterKeyId"])
    _, bucket = _data_bucket(template)
    data_key = _logical(
        bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"][
            "KMSMasterKeyID"
        ]
    )
    assert key_id != data_key
    resources = template.to_json()["Resources"]
    assert resources[key_id]["Properties"]["EnableKeyRotation"] is True
    [grant] = _publisher_grants(_key_statements(template, key_id))
    assert sorted(grant["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert grant["Condition"] == {"StringEquals": {"kms:ViaService": f"sqs.{region}.amazonaws.com"}}
    dlq_id = _logical(queue["RedrivePolicy"]["deadLetterTargetArn"])
    assert resources[dlq_id]["Properties"]["MessageRetentionPeriod"] == 14 * 86_400
    assert _logical(resources[dlq_id]["Properties"]["KmsMasterKeyId"]) == key_id


@pytest.mark.parametrize(("realm", "region"), LANDINGS)
def test_queue_policy_publisher_sends_reviewer_reads_attributes(realm: Realm, region: str) -> None:
    template = templates()[(realm, region)]
    queue_id, _ = _notification_queue(template)
    [policy] = [
        p["Properties"]
        for p in template.find_resources("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": queue_id}]
    ]
    allows = {s["Action"]: s for s in _statements(policy) if s["Effect"] == "Allow"}
    assert set(allows) == {"sqs:SendMessage", "sqs:GetQueueAttributes"}
    assert allows["sqs:SendMessage"]["Principal"] == {"AWS": PUBLISHER}
    assert allows["sqs:GetQueueAttributes"]["Principal"] == {"AWS": REVIEWER}
    for statement in allows.values():
        assert statement["Resource"] == {"Fn::GetAtt": [queue_id, "Arn"]} and "Condition" not in statement


@pytest.mark.parametrize(("realm", "region"), LANDINGS)
def test_dlq_alarm_notifies_the_alarm_topic(realm: Realm, region: str) -> None:
    template = templates()[(realm, region)]
    _, queue = _notification_queue(template)
    dlq_id = _logical(queue["RedrivePolicy"]["deadLetterTargetArn"])
    _, props = _one(template, "AWS::CloudWatch::Alarm", Properties={"Namespace": "AWS/SQS"})
    assert props["MetricName"] == "ApproximateNumberOfMessagesVisible" and props["Threshold"] == 0
    assert props["Dimensions"][0]["Value"] == {"Fn::GetAtt": [dlq_id, "QueueName"]}
    topic_id, _ = _one(template, "AWS::SNS::Topic")
    assert props["AlarmActions"] == [{"Ref": topic_id}]


@pytest.mark.parametrize(("realm", "region"), LANDINGS)
def test_outputs_the_destination_amazons_create_call_needs(realm: Realm, region: str) -> None:
    template = templates()[(realm, region)]
    bucket_id, _ = _data_bucket(template)
    queue_id, _ = _notification_queue(template)
    outputs = {k: v["Value"] for k, v in template.to_json()["Outputs"].items()}
    [destination] = [v for k, v in outputs.items() if "Destination" in k]
    rendered = str(destination)
    assert '{"bucketArn":"' in rendered and '","notification":{"queueArn":"' in rendered
    assert f"'Fn::GetAtt': ['{bucket_id}', 'Arn']" in rendered and f"'Fn::GetAtt': ['{queue_id}', 'Arn']" in rendered
    assert {"Ref": bucket_id} in outputs.values() and {"Fn::GetAtt": [queue_id, "Arn"]} in outputs.values()


def test_a_realm_without_regions_lands_in_its_primary_region() -> None:
    config = StreamConfig.parse({"realms": ["NA"], "v2": {"realms": ["FE", "EU", "NA"]}})
    assert config.v2 is not None
    assert config.v2.landings() == [(Realm.FE, "us-west-2"), (Realm.EU, "eu-west-1"), (Realm.NA, "us-east-1")]
    assert StreamConfig.parse({"realms": ["NA"]}).v2 is None


@pytest.mark.parametrize(
    ("v2", "message"),
    [
        ({"realms": ["EU"], "regions": {"EU": ["us-east-1"]}}, "regions.EU: .* not us-east-1"),  # another realm's
        ({"realms": ["EU"], "regions": {"EU": ["eu-central-1"]}}, "regions.EU: .* not eu-central-1"),
        ({"realms": ["NA"], "regions": {"NA": ["us-west-2"]}}, "regions.NA: .* not us-west-2"),
        ({"realms": ["FE"], "regions": {"FE": ["ap-northeast-1"]}}, "regions.FE: .* not ap-northeast-1"),
        ({"realms": ["NA"], "regions": {"EU": ["eu-west-2"]}}, "regions.EU: EU is not among the v2 realms"),
        ({"realms": ["EU"], "regions": {"EU": ["eu-west-2", "eu-west-2"]}}, "regions.EU: a region is listed twice"),
        ({"realms": ["EU", "EU"]}, "a realm is listed twice"),
        ({"realms": []}, "realms: Tuple should have at least 1 item"),
    ],
)
def test_a_refused_region_fails_synthesis_naming_field_and_region(v2: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=f"v2.*{message}"):
        StreamConfig.parse({"realms": ["NA"], "v2": v2})
