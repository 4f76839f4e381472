"""What the v1 and v2 subscription constructs build alike: the read grant on the LwA secret, the custom resources'
handler with its provider, and the hourly subscription monitor (one handler,
``adsbridge.stream.handlers.subscription_monitor``, told by its environment which owners or accounts to count).

Both build in the subscription construct's own scope, so the logical ids are those of the constructs' earlier
copies of this code and a deployed stack keeps its resources."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager

from adsbridge.stream.handlers.environment import SecretEnvironment
from constructs import Construct, IDependable
from infra.constructs.function import AdsbridgeFunction
from infra.stream.provider import provider_for


def read_secret(scope: Construct, secret_name: str) -> iam.PolicyStatement:
    """``secretsmanager:GetSecretValue`` on the one secret: Secrets Manager appends six random characters to the
    name in a secret's ARN."""
    secret = secretsmanager.Secret.from_secret_name_v2(scope, "Credentials", secret_name)
    return iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[f"{secret.secret_arn}-??????"])


class SubscriptionResources:
    """The handler (``Handler``) of one kind of subscription custom resource, which calls Amazon with the LwA
    credentials in ``secret_name`` (``grant`` reads them; the monitor needs it too), run by a provider
    (infra/stream/provider.py); ``add`` declares one subscription."""

    def __init__(
        self,
        scope: Construct,
        *,
        handler: str,
        service: str,
        description: str,
        secret_name: str,
        resource_type: str,
    ) -> None:
        self._scope, self._resource_type = scope, resource_type
        # The function before the secret: the v1 construct's order, which the template's CDK metadata records.
        function = AdsbridgeFunction(
            scope,
            "Handler",
            handler=handler,
            service=service,
            description=description,
            timeout=cdk.Duration.minutes(5),  # AdsSession's retries on 429/5xx
            environment=SecretEnvironment.variables(secret_name=secret_name),
        )
        self.grant = read_secret(scope, secret_name)
        function.role.add_to_policy(self.grant)
        self._provider = provider_for(scope, function.function)

    def add(
        self, construct_id: str, properties: Mapping[str, str], *, after: Sequence[IDependable]
    ) -> cdk.CustomResource:
        """One subscription, created after ``after`` (what Amazon needs in place as it subscribes)."""
        resource = cdk.CustomResource(
            self._scope,
            construct_id,
            service_token=self._provider.service_token,
            resource_type=self._resource_type,
            properties=dict(properties),
        )
        for dependency in after:
            resource.node.add_dependency(dependency)
        return resource


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
