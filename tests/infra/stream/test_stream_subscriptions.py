"""Subscriptions as code in StreamStack: a custom resource per (owner, dataset) after its queue policy; nag-clean."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from aws_cdk.assertions import Template
from infra.app import build_app
from infra.stream.config import ConfigError, StreamConfig
from infra.stream.stack import StreamStack, build_stream_stacks

from adsbridge.stream.datasets import Realm

CONFIG = {
    "realms": ["NA"],
    "datasets": ["sp-traffic", "sd-traffic", "adsp-traffic"],
    "secret_name": "adsbridge/lwa",
    "subscriptions": [{"profile_id": "3519471835403213"}, {"dsp_advertiser_id": "585193847120"}],
}


@cache
def template() -> Template:
    [stack] = build_stream_stacks(build_app(), StreamConfig.parse(CONFIG))
    return Template.from_stack(stack)  # nag runs here


def subscriptions() -> dict[str, dict[str, Any]]:
    return template().find_resources("Custom::MarketingStreamSubscription")


def test_one_resource_per_owner_and_dataset_of_its_kind() -> None:
    found = sorted(
        (p["Properties"]["OwnerId"], p["Properties"]["Dsp"], p["Properties"]["DatasetId"])
        for p in subscriptions().values()
    )
    assert found == [
        ("3519471835403213", "false", "sd-traffic"),
        ("3519471835403213", "false", "sp-traffic"),
        ("585193847120", "true", "adsp-traffic"),
    ]


def test_each_subscription_waits_for_its_queue_policy_and_names_its_queue() -> None:
    policies = {
        logical: props["Properties"]["Queues"][0]["Ref"]
        for logical, props in template().find_resources("AWS::SQS::QueuePolicy").items()
    }
    for resource in subscriptions().values():
        queue_ref = resource["Properties"]["QueueArn"]["Fn::GetAtt"][0]
        [policy] = [logical for logical, queue in policies.items() if queue == queue_ref]
        assert policy in resource["DependsOn"]
        assert resource["Properties"]["Realm"] == "NA"


def test_the_handler_and_the_monitor_read_only_the_configured_secret() -> None:
    functions = template().find_resources("AWS::Lambda::Function")
    [handler] = [f for f in functions.values() if "subscription_resource" in str(f["Properties"].get("Handler"))]
    assert handler["Properties"]["Environment"]["Variables"]["SECRET_NAME"] == "adsbridge/lwa"
    statements = [
        s
        for policy in template().find_resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "secretsmanager:GetSecretValue"
    ]
    assert len(statements) == 2
    assert all("secret:adsbridge/lwa-??????" in str(statement["Resource"]) for statement in statements)


def test_no_subscriptions_no_handler() -> None:
    [stack] = build_stream_stacks(build_app(), StreamConfig.parse({"realms": ["EU"], "datasets": ["sp-traffic"]}))
    assert isinstance(stack, StreamStack) and stack.subscriptions is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"secret_name": None}, "subscriptions need secret_name"),
        ({"subscriptions": [{"profile_id": "1", "dsp_advertiser_id": "2"}]}, "exactly one of profile_id"),
        ({"subscriptions": [{"profile_id": "1", "datasets": ["adsp-traffic"]}]}, "adsp-traffic needs dsp_advertiser"),
        ({"subscriptions": [{"dsp_advertiser_id": "2", "datasets": ["sp-traffic"]}]}, "sp-traffic needs profile_id"),
        ({"subscriptions": [{"profile_id": "1", "datasets": ["sb-traffic"]}]}, "not among the deployed datasets"),
        ({"realms": ["NA", "EU"]}, "subscriptions.0.realm is required"),
        ({"subscriptions": [{"profile_id": "1", "realm": "FE"}]}, "FE is not among the realms"),
        ({"subscriptions": [{"profile_id": "\uff11\uff12\uff13"}]}, "profile_id"),  # fullwidth digits: no id
        ({"alarm_topic_arns": {"NA": "arn:aws:sns:us-east-1:\uff1123456789012:t"}}, "alarm_topic_arns"),
    ],
)
def test_bad_subscription_config_names_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        StreamConfig.parse({**CONFIG, **change})


def test_subscriptions_go_to_their_realm() -> None:
    config = StreamConfig.parse(
        {**CONFIG, "realms": ["NA", "EU"], "subscriptions": [{"profile_id": "1", "realm": "EU"}]}
    )
    assert config.subscriptions_in(Realm.NA) == []
    assert [dataset for _, dataset in config.subscriptions_in(Realm.EU)] == ["sp-traffic", "sd-traffic"]


def test_an_hourly_monitor_and_an_alarm_per_bad_status() -> None:
    functions = template().find_resources("AWS::Lambda::Function")
    [monitor] = [f for f in functions.values() if "subscription_monitor" in str(f["Properties"].get("Handler"))]
    variables = monitor["Properties"]["Environment"]["Variables"]
    assert json.loads(variables["OWNERS"]) == [
        {"id": "3519471835403213", "dsp": False},
        {"id": "585193847120", "dsp": True},
    ]
    assert variables["REALM"] == "NA"
    [rule] = template().find_resources("AWS::Events::Rule").values()
    assert rule["Properties"]["ScheduleExpression"] == "rate(1 hour)"

    alarms = template().find_resources("AWS::CloudWatch::Alarm").values()
    by_metric = {a["Properties"].get("MetricName"): a["Properties"] for a in alarms}
    for name in (
        "SubscriptionsFailedConfirmation",
        "SubscriptionsFailedProvisioning",
        "SubscriptionsSuspended",
        "SubscriptionsStalePending",
    ):
        alarm = by_metric[name]
        assert alarm["Namespace"] == "adsbridge" and alarm["Threshold"] == 0 and alarm["Period"] == 3600
        assert alarm["Dimensions"] == [{"Name": "service", "Value": "stream-subscriptions-monitor"}]
    assert sum(a["Properties"].get("MetricName") == "Errors" for a in alarms) == 2  # ingest and monitor


def test_the_dashboard_shows_subscription_counts_when_subscriptions_are_managed() -> None:
    [dashboard] = template().find_resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for name in ("SubscriptionsActive", "SubscriptionsPendingConfirmation", "SubscriptionsSuspended"):
        assert f'\\"adsbridge\\",\\"{name}\\",\\"service\\",\\"stream-subscriptions-monitor\\"' in body, name
    assert "Subscriptions needing action" in body


def test_ids_given_as_json_numbers_reach_the_template_exactly() -> None:
    """JSON numbers past 2**53 are exact in Python but not in CDK's JavaScript, which would round them."""
    raw = json.loads(
        '{"realms": ["FE"], "datasets": ["sp-traffic", "adsp-traffic"], "secret_name": "adsbridge/lwa",'
        ' "subscriptions": [{"profile_id": 3610549925043311237}, {"dsp_advertiser_id": 582019123010123456}]}'
    )
    [stack] = build_stream_stacks(build_app(), StreamConfig.parse(raw))
    text = json.dumps(Template.from_stack(stack).to_json())
    owners = {
        r["Properties"]["OwnerId"]
        for r in Template.from_stack(stack).find_resources("Custom::MarketingStreamSubscription").values()
    }
    assert owners == {"3610549925043311237", "582019123010123456"}
    assert '\\"id\\": \\"3610549925043311237\\"' in text and '\\"id\\": \\"582019123010123456\\"' in text  # OWNERS


@pytest.mark.parametrize("value", [3.610549925043311e18, True, -5])
def test_an_id_that_is_not_an_exact_integer_is_refused(value: object) -> None:
    raw = {"realms": ["NA"], "secret_name": "s", "subscriptions": [{"profile_id": value}]}
    with pytest.raises(ConfigError, match=r"subscriptions\.0\.profile_id"):
        StreamConfig.parse(raw)
