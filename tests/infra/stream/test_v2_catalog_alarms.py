"""Every StreamV2Stack alarms on its catalog's ``ColumnTypeConflicts`` and ``MessagesFailed`` above 0, as the
catalog Lambda's Powertools ``Metrics`` emits them (namespace and ``service`` dimension from the function's own
environment, serialised by Powertools itself), notifying the stack's alarm topic; no data is not breaching."""

from __future__ import annotations

import os
from functools import cache
from typing import Any
from unittest import mock

import pytest
from aws_cdk.assertions import Template
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from infra.app import build_app
from infra.stream.config import StreamConfig
from infra.stream.v2_catalog import ALARMS
from infra.stream.v2_stack import StreamV2Stack, build_v2_stacks
from tests.infra.stream.test_v2_landing import LANDINGS, templates

from adsbridge import METRICS_NAMESPACE
from adsbridge.stream.datasets import Realm

HANDLER = "adsbridge.stream.handlers.v2_catalog.lambda_handler"
OPERATOR_TOPIC = "arn:aws:sns:us-west-2:123456789012:ops"  # FE's realm region


def catalog_environment(template: Template) -> dict[str, str]:
    [function] = template.find_resources("AWS::Lambda::Function", {"Properties": {"Handler": HANDLER}}).values()
    return dict(function["Properties"]["Environment"]["Variables"])


def emitted(environment: dict[str, str], name: str) -> tuple[str, list[dict[str, str]]]:
    """Namespace and dimensions of ``name`` as the handler's ``Metrics(namespace=METRICS_NAMESPACE)`` writes it
    in a Lambda with ``environment``: the EMF record Powertools serialises."""
    with mock.patch.dict(os.environ, environment):
        metrics = Metrics(namespace=METRICS_NAMESPACE)
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        try:
            record = metrics.serialize_metric_set()
        finally:
            metrics.clear_metrics()
    [directive] = record["_aws"]["CloudWatchMetrics"]
    assert [m["Name"] for m in directive["Metrics"]] == [name]
    [dimensions] = directive["Dimensions"]
    return directive["Namespace"], [{"Name": d, "Value": record[d]} for d in dimensions]


def catalog_alarms(template: Template) -> dict[str, dict[str, Any]]:
    """The alarms on the catalog's metrics, by metric name."""
    alarms = template.find_resources("AWS::CloudWatch::Alarm", {"Properties": {"Namespace": METRICS_NAMESPACE}})
    return {a["Properties"]["MetricName"]: a["Properties"] for a in alarms.values()}


def assert_catalog_alarms(template: Template, actions: list[Any]) -> None:
    alarms = catalog_alarms(template)
    assert set(alarms) == {"ColumnTypeConflicts", "MessagesFailed"} == set(ALARMS)
    environment = catalog_environment(template)
    for name, props in alarms.items():
        namespace, dimensions = emitted(environment, name)
        assert (props["Namespace"], props["Dimensions"]) == (namespace, dimensions)
        assert dimensions == [{"Name": "service", "Value": "stream-v2-catalog"}]
        assert props["Statistic"] == "Sum" and props["Period"] == 300 and props["EvaluationPeriods"] == 1
        assert props["ComparisonOperator"] == "GreaterThanThreshold" and props["Threshold"] == 0
        assert props["TreatMissingData"] == "notBreaching"
        assert props["AlarmActions"] == actions and props["OKActions"] == actions
        assert props["AlarmDescription"].startswith(f"{name}: ")


@pytest.mark.parametrize(("realm", "region"), LANDINGS)
def test_every_landing_alarms_on_the_catalogs_conflicts_and_failures_to_its_own_topic(
    realm: Realm, region: str
) -> None:
    template = templates()[(realm, region)]
    [topic_id] = template.find_resources("AWS::SNS::Topic")
    assert_catalog_alarms(template, [{"Ref": topic_id}])


@cache
def operator_stacks() -> dict[str, Template]:
    config = StreamConfig.parse(
        {
            "realms": ["FE"],
            "alarm_topic_arns": {"FE": OPERATOR_TOPIC},
            "v2": {"realms": ["FE"], "regions": {"FE": ["us-west-2", "ap-southeast-1"]}},
        }
    )
    return {
        stack.landing_region: Template.from_stack(stack)
        for stack in build_v2_stacks(build_app(), config)
        if isinstance(stack, StreamV2Stack)
    }


def test_in_the_operators_region_the_alarms_notify_the_operators_topic() -> None:
    template = operator_stacks()["us-west-2"]
    assert template.find_resources("AWS::SNS::Topic") == {}
    assert_catalog_alarms(template, [OPERATOR_TOPIC])


def test_elsewhere_the_alarms_notify_the_stacks_own_topic() -> None:
    """An alarm can notify only a topic in its own region."""
    template = operator_stacks()["ap-southeast-1"]
    [topic_id] = template.find_resources("AWS::SNS::Topic")
    assert_catalog_alarms(template, [{"Ref": topic_id}])
