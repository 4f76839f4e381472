"""The export state machine: the ASL file (infra/export/statemachine) with the task functions and the
configured tunables substituted, logged without execution data, allowed to invoke exactly those functions."""

from __future__ import annotations

import math

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn

from infra.constructs.acks import acknowledge
from infra.constructs.function import AdsbridgeFunction
from infra.export.config import ExportConfig
from infra.export.definition import ASL_FILE, MachineSettings


def export_machine(
    stack: Stack, config: ExportConfig, functions: dict[str, AdsbridgeFunction], *, name: str
) -> sfn.StateMachine:
    """Builds in ``stack``'s own scope (logical ids: infra/export/stack.py)."""
    machine_logs = logs.LogGroup(
        stack, "MachineLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
    )
    machine = sfn.StateMachine(
        stack,
        "Machine",
        state_machine_name=name,
        definition_body=sfn.DefinitionBody.from_file(str(ASL_FILE)),
        definition_substitutions={
            **{f"{task}FunctionArn": fn.function.function_arn for task, fn in functions.items()},
            **MachineSettings(
                max_concurrency=config.max_concurrency,
                poll_interval_seconds=config.poll_interval_seconds,
                query_poll_seconds=config.query_poll_seconds,
                query_max_polls=math.ceil(config.query_timeout_minutes * 60 / config.query_poll_seconds),
                ads_retry_seconds=config.ads_retry_seconds,
            ).substitutions(),
        },
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=machine_logs, level=sfn.LogLevel.ALL, include_execution_data=False),
    )
    acknowledge(
        machine.role,
        {
            "AwsSolutions-IAM5[Resource::*]": "X-Ray writes and CloudWatch Logs vended-log delivery "
            "(logs:*LogDelivery*, resource policies) have no resource-level permissions"
        },
    )
    for fn in functions.values():
        machine.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[fn.function.function_arn])
        )
    return machine
