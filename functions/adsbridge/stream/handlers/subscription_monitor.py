"""Lambda entry point of the hourly subscription monitor (logic: ``adsbridge.stream.subscription_monitor``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from adsbridge import METRICS_NAMESPACE
from adsbridge.stream import v2_subscription_resource
from adsbridge.stream.handlers.environment import MonitorEnvironment
from adsbridge.stream.subscription_monitor import metric_name, run
from adsbridge.stream.subscription_resource import client_from_secret

logger = Logger()
metrics = Metrics(namespace=METRICS_NAMESPACE)


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    env, secrets = MonitorEnvironment.from_environ(), boto3.client("secretsmanager")
    owners = [entry.owner() for entry in env.owners]
    v2_client_for = v2_subscription_resource.client_from_secret(env.secret_name, secrets)
    client_for = client_from_secret(env.secret_name, secrets)
    counts = run(client_for, env.realm, owners, env.v2_accounts, datetime.now(UTC), v2_client_for)
    for status, count in counts.items():
        metrics.add_metric(name=metric_name(status), unit=MetricUnit.Count, value=count)
    return dict(counts)
