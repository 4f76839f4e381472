"""A ``custom_resources.Provider`` around one of our functions, the way every stream custom resource needs it.

Its Node.js framework Lambda passes cdk-nag's runtime rule; its role is ours, without a managed policy, and it
logs to a retained group.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr

from constructs import Construct
from infra.constructs.acks import acknowledge


def provider_for(scope: Construct, handler: lambda_.Function) -> cr.Provider:
    framework_role = iam.Role(scope, "ProviderRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    framework_logs = logs.LogGroup(
        scope, "ProviderLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=cdk.RemovalPolicy.DESTROY
    )
    framework_logs.grant_write(framework_role)
    provider = cr.Provider(
        scope,
        "Provider",
        on_event_handler=handler,
        framework_on_event_role=framework_role,
        log_group=framework_logs,
    )
    stack = cdk.Stack.of(scope)
    function_id = stack.resolve(stack.get_logical_id(handler.node.default_child))  # type: ignore[arg-type]
    acknowledge(
        framework_role,
        {
            f"AwsSolutions-IAM5[Resource::<{function_id}.Arn>:*]": "the Provider framework's invoke grant on its "
            "handler covers the handler's versions (CDK appends ':*'); it can invoke that one function only"
        },
    )
    return provider
