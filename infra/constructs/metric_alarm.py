"""The one way an adsbridge stack builds an alarm (``alarm_above``: one period over a threshold, to the stack's
alarm topics), and the Powertools metric of what a handler counts, named as Powertools emits it.

A handler's ``Metrics(namespace=METRICS_NAMESPACE)`` writes every metric under that namespace with one dimension,
``service``, whose value is the function's ``POWERTOOLS_SERVICE_NAME`` (set by ``AdsbridgeFunction`` from its
``service``). An alarm on any other dimensions would watch a metric nobody writes and stay OK forever.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_sns as sns

from adsbridge import METRICS_NAMESPACE
from constructs import Construct
from infra.constructs.alarm_topic import notify

PERIOD = cdk.Duration.minutes(5)


def powertools_metric(name: str, service: str, *, period: cdk.Duration = PERIOD, statistic: str = "Sum") -> cw.Metric:
    """The metric ``name`` as the handler with Powertools service name ``service`` emits it."""
    return cw.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": service},
        period=period,
        statistic=statistic,
    )


def alarm_above(
    scope: Construct,
    construct_id: str,
    metric: cw.Metric,
    *,
    threshold: float,
    description: str,
    topics: Sequence[sns.ITopic],
    comparison: cw.ComparisonOperator = cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
) -> cw.Alarm:
    """Alarm when one period of ``metric`` is above ``threshold`` (or as ``comparison`` says), notifying ``topics``
    of alarm and recovery.

    No data is not breaching: a period without invocations has nothing emitted in it.
    """
    alarm = metric.create_alarm(
        scope,
        construct_id,
        threshold=threshold,
        evaluation_periods=1,
        comparison_operator=comparison,
        treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        alarm_description=description,
    )
    notify(alarm, topics)
    return alarm
