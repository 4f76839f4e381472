"""The export state machine's task functions (``TASKS``), each with exactly the S3, Secrets Manager and Step
Functions rights its step needs."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam

from adsbridge.export.checkpoint import CHECKPOINT_PREFIX
from adsbridge.export.handlers import TASKS
from adsbridge.export.handlers.environment import ExportEnvironment
from adsbridge.export.payloads import INCOMING
from adsbridge.export.registry import REGISTRY_PREFIX
from adsbridge.export.report import REPORT_PREFIX
from adsbridge.export.schedule_claim import SCHEDULE_PREFIX
from infra.constructs.acks import acknowledge
from infra.constructs.function import AdsbridgeFunction
from infra.export.config import ExportConfig
from infra.export.storage import QUERY_RESULTS, ExportStorage

# UploadChunk: a chunk's batches, paced. Prepare: reads a CSV once to cut chunks outside quoted fields, so its
# limit is file size / S3 read speed. The other tasks make a few API calls each.
LONG_TASKS = {"UploadChunk", "Prepare"}
LONG_TIMEOUT = Duration.minutes(15)
TASK_TIMEOUT = Duration.minutes(2)
PREFIX_REASON = "object access is limited to this one prefix of this stack's bucket"

Statements = list[tuple[list[str], list[str]]]


class ExportFunctions:
    """``functions``: task name → function. Builds in ``stack``'s own scope (logical ids: infra/export/stack.py);
    ``machine_name`` names the state machine, so Prepare may describe its executions without depending on it."""

    def __init__(self, stack: Stack, config: ExportConfig, storage: ExportStorage, *, machine_name: str) -> None:
        self.functions = {
            name: AdsbridgeFunction(
                stack,
                name,
                handler=handler,
                service="export",
                timeout=LONG_TIMEOUT if name in LONG_TASKS else TASK_TIMEOUT,
                description=f"adsbridge export: {name}",
                environment=ExportEnvironment.variables(state_bucket=storage.state_bucket.bucket_name),
            )
            for name, handler in TASKS.items()
        }
        secrets = [
            stack.format_arn(
                service="secretsmanager",
                resource="secret",
                resource_name=f"{job.secret_name}-??????",
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            )
            for job in config.jobs
        ]
        executions = stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{machine_name}:*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        executions_finding = f"arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{machine_name}:*"
        for name, statements in _grants(storage).items():
            role = self.functions[name].role
            acknowledged = storage.prefix_findings([r for _, resources in statements for r in resources], PREFIX_REASON)
            acknowledged["AwsSolutions-IAM5[Resource::*]"] = "X-Ray trace writes cannot be scoped to a resource"
            if name == "Prepare":
                acknowledged[f"AwsSolutions-IAM5[Resource::{executions_finding}]"] = (
                    "any execution of this stack's own export state machine (execution names are generated)"
                )
            acknowledge(role, acknowledged)
            for actions, resources in statements:
                role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=resources))
            # ListBucket without an s3:prefix condition: S3 answers a GET of a missing checkpoint with NoSuchKey
            # only to a caller allowed to list the bucket, and a GET carries no s3:prefix, so a prefix-conditioned
            # grant would turn every first run's "no checkpoint yet" into AccessDenied. Keys hold no row data.
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=["s3:ListBucket"], resources=[storage.state_bucket.bucket_arn])
            )
            if name == "Prepare":  # is a run's owner still running? (an execution stopped by hand leaves no report)
                role.add_to_principal_policy(
                    iam.PolicyStatement(actions=["states:DescribeExecution"], resources=[executions])
                )
            if name not in ("Report", "ClaimSchedule") and secrets:
                role.add_to_principal_policy(
                    iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=secrets)
                )


def _grants(storage: ExportStorage) -> dict[str, Statements]:
    """Each task's S3 statements (actions, resources)."""
    input_objects = [storage.input_bucket.arn_for_objects(prefix + "*") for prefix in (INCOMING, QUERY_RESULTS)]
    checkpoints = storage.state_objects(CHECKPOINT_PREFIX)
    reports = storage.state_objects(REPORT_PREFIX)
    registry = storage.state_objects(REGISTRY_PREFIX)
    claims = storage.state_objects(SCHEDULE_PREFIX)
    return {
        # reads a claim only to see whether its own earlier attempt wrote it
        "ClaimSchedule": [(["s3:GetObject", "s3:PutObject"], [claims])],
        # Prepare reads reports too: a run's claim passes to a new execution only once its owner has reported
        "Prepare": [
            (["s3:GetObject"], input_objects),
            (["s3:GetObject", "s3:PutObject"], [checkpoints]),
            (["s3:GetObject"], [reports]),
            (["s3:GetObject", "s3:PutObject"], [registry]),
        ],
        "UploadChunk": [(["s3:GetObject"], input_objects), (["s3:GetObject", "s3:PutObject"], [checkpoints])],
        "PollStatus": [(["s3:GetObject", "s3:PutObject"], [checkpoints])],
        "Report": [(["s3:GetObject"], [checkpoints]), (["s3:PutObject"], [reports])],
    }
