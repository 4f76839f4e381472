"""What the v1 and v2 subscription constructs build alike: the read grant on the LwA secret, and the hourly
subscription monitor (one handler, ``adsbridge.stream.handlers.subscription_monitor``, told by its environment
which owners or accounts to count)."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager

from constructs import Construct
from infra.constructs.function import AdsbridgeFunction


def read_secret(scope: Construct, secret_name: str) -> iam.PolicyStatement:
    """``secretsmanager:GetSecretValue`` on the one secret: Secrets Manager appends six random characters to the
    name in a secret's ARN."""
    secret = secretsmanager.Secret.from_secret_name_v2(scope, "Credentials", secret_name)
    return iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[f"{secret.secret_arn}-??????"])


def hourly_monitor(
    scope: Construct,
    *,
    service: str,
    description: str,
    environment: Mapping[str, str],
    grant: iam.PolicyStatement,
) -> AdsbridgeFunction:
    """The monitor function (``Monitor``) and the rule (``Hourly``) that runs it every hour, retrying twice."""
    monitor = AdsbridgeFunction(
        scope,
        "Monitor",
        handler="adsbridge.stream.handlers.subscription_monitor.lambda_handler",
        service=service,
        description=description,
        timeout=cdk.Duration.minutes(5),
        environment=environment,
    )
    monitor.role.add_to_policy(grant)
    events.Rule(
        scope,
        "Hourly",
        schedule=events.Schedule.rate(cdk.Duration.hours(1)),
        targets=[targets.LambdaFunction(monitor.function, retry_attempts=2)],
    )
    return monitor
