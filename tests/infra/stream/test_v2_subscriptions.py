"""StreamV2Subscriptions in a bare stack: a custom resource per (account, dataset) after the landing policies,
the monitor for those accounts, alarms on the v2 statuses that need the operator, only the secret readable;
cdk-nag clean."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template
from infra.app import build_app
from infra.constructs.acks import acknowledge
from infra.stream.config import ConfigError, StreamConfig
from infra.stream.v2_stack import StreamV2Stack, build_v2_stacks
from infra.stream.v2_subscriptions import V2_MONITOR_SERVICE, StreamV2Subscriptions, V2SubscriptionConfig
from pydantic import ValidationError

from adsbridge.stream.datasets import Realm

ACCOUNT = "amzn1.ads-account.g.akzidxc3q1tgxm4lfb3h4j8ij"
OTHER = "amzn1.ads-account.g.3x7kq9m2p4r6t8v0w1y3z5b7d"
BUCKET = "arn:aws:s3:::adsbridge-v2-123456789012-us-east-1-data"


@cache
def template() -> Template:
    app = build_app()
    stack = cdk.Stack(app, "V2Bare", env=cdk.Environment(account="123456789012", region="us-east-1"))
    queue = sqs.Queue(stack, "Notifications", enforce_ssl=True)
    policy = sqs.CfnQueuePolicy(stack, "QueuePolicy", queues=[queue.queue_url], policy_document={})
    topic = sns.Topic.from_topic_arn(stack, "Alarms", "arn:aws:sns:us-east-1:123456789012:ops")
    subscriptions = [
        V2SubscriptionConfig(advertiser_account_id=ACCOUNT),
        V2SubscriptionConfig.model_validate({"advertiser_account_id": OTHER, "realm": "NA"}),
        V2SubscriptionConfig.model_validate({"advertiser_account_id": OTHER, "realm": "EU"}),  # another realm's
        V2SubscriptionConfig.model_validate(  # another landing region's
            {"advertiser_account_id": ACCOUNT, "realm": "FE", "region": "ap-southeast-1"}
        ),
    ]
    StreamV2Subscriptions(
        stack,
        "V2Subscriptions",
        realm=Realm.NA,
        region="us-east-1",
        default_region="us-east-1",
        bucket_arn=BUCKET,
        queue_arn=queue.queue_arn,
        secret_name="adsbridge/lwa",
        subscriptions=subscriptions,
        depends_on=[policy],
        alarm_topics=[topic],
    )
    # The queue itself is the landing stack's; acknowledge the rule it breaks here, where it stands in.
    acknowledge(queue, {"AwsSolutions-SQS3": "stands in for the v2 landing queue, whose DLQ that stack owns"})
    return Template.from_stack(stack)  # nag runs here


def resources() -> dict[str, dict[str, Any]]:
    return template().find_resources("Custom::MarketingStreamV2Subscription")


def test_one_resource_per_account_and_dataset_of_this_realm() -> None:
    found = sorted((r["Properties"]["AdvertiserAccountId"], r["Properties"]["DatasetId"]) for r in resources().values())
    assert found == [(OTHER, "ads-performance-v1"), (ACCOUNT, "ads-performance-v1")]
    for resource in resources().values():
        props = resource["Properties"]
        assert (props["Realm"], props["BucketArn"]) == ("NA", BUCKET)
        assert props["QueueArn"] == {"Fn::GetAtt": [next(iter(template().find_resources("AWS::SQS::Queue"))), "Arn"]}
        assert "QueuePolicy" in resource["DependsOn"]


def test_handler_and_monitor_read_only_the_secret_and_the_monitor_knows_the_accounts() -> None:
    functions = template().find_resources("AWS::Lambda::Function")
    handlers = {str(f["Properties"].get("Handler")): f["Properties"] for f in functions.values()}
    monitor = handlers["adsbridge.stream.handlers.subscription_monitor.lambda_handler"]["Environment"]["Variables"]
    assert json.loads(monitor["V2_ACCOUNTS"]) == sorted([ACCOUNT, OTHER])
    assert (monitor["REALM"], monitor["POWERTOOLS_SERVICE_NAME"]) == ("NA", V2_MONITOR_SERVICE)
    assert "OWNERS" not in monitor
    resource = handlers["adsbridge.stream.handlers.v2_subscription_resource.lambda_handler"]
    assert resource["Environment"]["Variables"]["SECRET_NAME"] == "adsbridge/lwa"
    statements = [
        s
        for policy in template().find_resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "secretsmanager:GetSecretValue"
    ]
    assert len(statements) == 2
    assert all("secret:adsbridge/lwa-??????" in str(statement["Resource"]) for statement in statements)
    template().has_resource_properties("AWS::Events::Rule", {"ScheduleExpression": "rate(1 hour)"})


def test_alarms_on_the_v2_statuses_that_need_action_notify_the_topic() -> None:
    alarms = template().find_resources("AWS::CloudWatch::Alarm")
    by_metric = {a["Properties"].get("MetricName"): a["Properties"] for a in alarms.values()}
    assert set(by_metric) == {"SubscriptionsV2FailedProvisioning", "SubscriptionsV2Suspended", "Errors"}
    for props in by_metric.values():
        assert props["AlarmActions"] == ["arn:aws:sns:us-east-1:123456789012:ops"]
    suspended = by_metric["SubscriptionsV2Suspended"]
    assert suspended["Dimensions"] == [{"Name": "service", "Value": V2_MONITOR_SERVICE}]
    assert (suspended["Threshold"], suspended["ComparisonOperator"]) == (0, "GreaterThanThreshold")


def test_a_subscription_lands_in_its_realms_default_region_unless_it_names_one() -> None:
    entry = V2SubscriptionConfig.model_validate({"advertiser_account_id": ACCOUNT, "realm": "EU"})
    assert entry.lands_in(Realm.EU, "eu-west-1", "eu-west-1")
    assert not entry.lands_in(Realm.EU, "eu-south-2", "eu-west-1")
    assert not entry.lands_in(Realm.NA, "us-east-1", "us-east-1")
    named = entry.model_copy(update={"region": "eu-south-2"})
    assert named.lands_in(Realm.EU, "eu-south-2", "eu-west-1") and not named.lands_in(
        Realm.EU, "eu-west-1", "eu-west-1"
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"advertiser_account_id": "3519471835403213"}, "advertiser_account_id"),
        ({"advertiser_account_id": ACCOUNT, "datasets": ["sp-traffic"]}, "v2 datasets"),
        ({"advertiser_account_id": ACCOUNT, "datasets": []}, "datasets"),
        ({"advertiser_account_id": ACCOUNT, "realm": "XX"}, "realm"),
        ({"advertiser_account_id": ACCOUNT, "realm": "NA", "region": "eu-west-1"}, "only in us-east-1"),
        ({"advertiser_account_id": ACCOUNT, "region": "eu-central-1"}, "region"),
        ({"advertiser_account_id": ACCOUNT, "dataset": ["ads-performance-v1"]}, "dataset"),
    ],
)
def test_bad_config_entries_are_refused_naming_the_field(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        V2SubscriptionConfig.model_validate(entry)


@cache
def wired() -> dict[tuple[Realm, str], Any]:
    config = StreamConfig.parse(
        {
            "realms": ["NA"],
            "secret_name": "adsbridge/lwa",
            "v2": {
                "realms": ["NA", "EU"],
                "regions": {"EU": ["eu-west-1", "eu-south-2"]},
                "subscriptions": [
                    {"advertiser_account_id": ACCOUNT, "realm": "NA"},
                    {"advertiser_account_id": OTHER, "realm": "EU", "region": "eu-south-2"},
                ],
            },
        }
    )
    return {
        (s.realm, s.landing_region): s for s in build_v2_stacks(build_app(), config) if isinstance(s, StreamV2Stack)
    }


def test_the_v2_stack_subscribes_what_lands_in_it_after_its_landing() -> None:
    stacks = wired()
    assert stacks[(Realm.EU, "eu-west-1")].subscriptions is None  # nothing lands in the realm's default region
    for key, account in (((Realm.NA, "us-east-1"), ACCOUNT), ((Realm.EU, "eu-south-2"), OTHER)):
        stack = stacks[key]
        template = Template.from_stack(stack)  # nag runs here
        [resource] = template.find_resources("Custom::MarketingStreamV2Subscription").values()
        props = resource["Properties"]
        assert (props["AdvertiserAccountId"], props["Realm"]) == (account, key[0].value)
        bucket = stack.resolve(stack.landing.bucket.node.default_child.logical_id)
        queue = stack.resolve(stack.landing.queue.node.default_child.logical_id)
        assert props["BucketArn"] == {"Fn::GetAtt": [bucket, "Arn"]}
        assert props["QueueArn"] == {"Fn::GetAtt": [queue, "Arn"]}
        policies = {  # the landing's grants to Amazon (the catalog's own buckets are not Amazon's business)
            name
            for kind in ("AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy")
            for name in template.find_resources(kind)
            if name.startswith("Landing")
        }
        assert len(policies) >= 3 and policies <= set(resource["DependsOn"])


@pytest.mark.parametrize(
    ("v2", "secret", "message"),
    [
        ({"realms": ["NA"], "subscriptions": [{"advertiser_account_id": ACCOUNT}]}, None, "need secret_name"),
        ({"realms": ["NA", "EU"], "subscriptions": [{"advertiser_account_id": ACCOUNT}]}, "s", "realm is required"),
        ({"realms": ["NA"], "subscriptions": [{"advertiser_account_id": ACCOUNT, "realm": "EU"}]}, "s", "not among"),
        (
            {"realms": ["EU"], "subscriptions": [{"advertiser_account_id": ACCOUNT, "region": "eu-south-2"}]},
            "s",
            "not a v2 landing region of EU",
        ),
    ],
)
def test_subscriptions_that_cannot_land_fail_synth(v2: dict[str, Any], secret: str | None, message: str) -> None:
    raw = {"realms": ["NA"], "v2": v2, **({"secret_name": secret} if secret else {})}
    with pytest.raises(ConfigError, match=message):
        StreamConfig.parse(raw)
