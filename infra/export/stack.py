"""ExportStack: S3 drop → EventBridge rule → the export state machine (ASL file) → reports in S3, with alarms.

``build_export_stacks(app, config)`` is what ``infra/app.py`` calls.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn

from adsbridge.export.checkpoint import CHECKPOINT_PREFIX
from adsbridge.export.handlers.runtime import STATE_BUCKET_ENV
from adsbridge.export.steps import REPORT_PREFIX
from constructs import Construct
from infra.constructs.function import AdsbridgeFunction
from infra.export.config import ExportConfig

ASL_FILE = Path(__file__).parent / "statemachine/export.asl.json"
INCOMING = "incoming/"
HANDLERS = {  # construct id -> (handler, timeout)
    "Prepare": ("adsbridge.export.handlers.prepare.lambda_handler", Duration.minutes(2)),
    "UploadChunk": ("adsbridge.export.handlers.upload_chunk.lambda_handler", Duration.minutes(15)),
    "PollStatus": ("adsbridge.export.handlers.poll_status.lambda_handler", Duration.minutes(2)),
    "Report": ("adsbridge.export.handlers.report.lambda_handler", Duration.minutes(2)),
}


def build_export_stacks(app: cdk.App, config: ExportConfig) -> list[cdk.Stack]:
    return [ExportStack(app, "AdsbridgeExport", config=config)]


class ExportStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: ExportConfig, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        access_logs = self._bucket("AccessLogs", expire_days=config.state_retention_days, logs_bucket=None)
        access_logs.node.default_child.node.add_metadata(  # type: ignore[union-attr]
            cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY,
            {"AwsSolutions::AwsSolutions-S1": "this is the access-log bucket; logging it into itself would loop"},
        )
        self.input_bucket = self._bucket(
            "Input", expire_days=config.raw_retention_days, logs_bucket=access_logs, prefix=INCOMING, events=True
        )
        self.state_bucket = self._bucket("State", expire_days=config.state_retention_days, logs_bucket=access_logs)
        self.functions = {
            name: AdsbridgeFunction(
                self,
                name,
                handler=handler,
                service="export",
                timeout=timeout,
                description=f"adsbridge export: {name}",
                environment={STATE_BUCKET_ENV: self.state_bucket.bucket_name},
            )
            for name, (handler, timeout) in HANDLERS.items()
        }
        self._grant(config)
        machine_logs = logs.LogGroup(
            self, "MachineLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
        )
        self.state_machine = sfn.StateMachine(
            self,
            "Machine",
            definition_body=sfn.DefinitionBody.from_file(str(ASL_FILE)),
            definition_substitutions={
                **{f"{name}FunctionArn": fn.function.function_arn for name, fn in self.functions.items()},
                "MaxConcurrency": str(config.max_concurrency),
                "PollIntervalSeconds": str(config.poll_interval_seconds),
            },
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=machine_logs, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
        self.state_machine.role.node.add_metadata(
            cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY,
            {
                "AwsSolutions::AwsSolutions-IAM5[Resource::*]": "X-Ray writes and CloudWatch Logs vended-log delivery "
                "(logs:*LogDelivery*, resource policies) have no resource-level permissions"
            },
        )
        for fn in self.functions.values():
            self.state_machine.role.add_to_principal_policy(
                iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[fn.function.function_arn])
            )
        for job in config.jobs:
            events.Rule(
                self,
                f"Job-{job.name}",
                description=f"adsbridge export job {job.name}: objects under {INCOMING}{job.trigger.prefix}",
                event_pattern=events.EventPattern(
                    source=["aws.s3"],
                    detail_type=["Object Created"],
                    detail={
                        "bucket": {"name": [self.input_bucket.bucket_name]},
                        "object": {"key": [{"prefix": INCOMING + job.trigger.prefix}]},
                    },
                ),
                targets=[
                    targets.SfnStateMachine(
                        self.state_machine,
                        input=events.RuleTargetInput.from_object(
                            {
                                "job": {
                                    "name": job.name,
                                    "settings": job.settings,
                                    "secret_name": job.secret_name,
                                    "chunk_bytes": job.chunk_bytes,
                                },
                                "source": {
                                    "bucket": events.EventField.from_path("$.detail.bucket.name"),
                                    "key": events.EventField.from_path("$.detail.object.key"),
                                },
                            }
                        ),
                    )
                ],
            )
        cloudwatch.Alarm(
            self,
            "FailedExecutions",
            metric=self.state_machine.metric_failed(period=Duration.minutes(5)),
            threshold=1,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description="an audience export failed: read its report under reports/<job>/ in the state bucket",
        )

    def _bucket(
        self,
        name: str,
        *,
        expire_days: int,
        logs_bucket: s3.IBucket | None,
        prefix: str | None = None,
        events: bool = False,
    ) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            name,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=False,
            server_access_logs_bucket=logs_bucket,
            server_access_logs_prefix=f"{name.lower()}/" if logs_bucket else None,
            lifecycle_rules=[s3.LifecycleRule(prefix=prefix, expiration=Duration.days(expire_days))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        if events:  # set natively: event_bridge_enabled=True would add a custom-resource Lambda with "*" rights
            cfn = bucket.node.default_child
            assert isinstance(cfn, s3.CfnBucket)
            cfn.add_property_override("NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True)
        return bucket

    def _logical_id(self, bucket: s3.Bucket) -> str:
        cfn = bucket.node.default_child
        assert isinstance(cfn, s3.CfnBucket)
        return self.get_logical_id(cfn)

    def _prefixes(self, resources: list[str]) -> list[tuple[s3.Bucket, str]]:
        known = {
            self.input_bucket.arn_for_objects(INCOMING + "*"): (self.input_bucket, INCOMING.rstrip("/")),
            self.state_bucket.arn_for_objects(CHECKPOINT_PREFIX + "/*"): (self.state_bucket, CHECKPOINT_PREFIX),
            self.state_bucket.arn_for_objects(REPORT_PREFIX + "/*"): (self.state_bucket, REPORT_PREFIX),
        }
        return [known[resource] for resource in resources if resource in known]

    def _grant(self, config: ExportConfig) -> None:
        input_objects = self.input_bucket.arn_for_objects(INCOMING + "*")
        checkpoints = self.state_bucket.arn_for_objects(CHECKPOINT_PREFIX + "/*")
        reports = self.state_bucket.arn_for_objects(REPORT_PREFIX + "/*")
        secrets = [
            self.format_arn(
                service="secretsmanager",
                resource="secret",
                resource_name=f"{job.secret_name}-??????",
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            )
            for job in config.jobs
        ]
        grants = {
            "Prepare": [(["s3:GetObject"], [input_objects]), (["s3:GetObject", "s3:PutObject"], [checkpoints])],
            "UploadChunk": [(["s3:GetObject"], [input_objects]), (["s3:GetObject", "s3:PutObject"], [checkpoints])],
            "PollStatus": [(["s3:GetObject", "s3:PutObject"], [checkpoints])],
            "Report": [(["s3:GetObject"], [checkpoints]), (["s3:PutObject"], [reports])],
        }
        prefix_reason = "object access is limited to this one prefix of this stack's bucket"
        for name, statements in grants.items():
            role = self.functions[name].role
            acknowledged = {
                f"AwsSolutions::AwsSolutions-IAM5[Resource::<{self._logical_id(bucket)}.Arn>/{prefix}/*]": prefix_reason
                for actions, resources in statements
                for bucket, prefix in self._prefixes(resources)
            }
            acknowledged["AwsSolutions::AwsSolutions-IAM5[Resource::*]"] = (
                "X-Ray trace writes cannot be scoped to a resource"
            )
            role.node.add_metadata(cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY, acknowledged)
            for actions, resources in statements:
                role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=resources))
            # listing checkpoints (a missing key must read as NoSuchKey, and Report lists chunk results)
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["s3:ListBucket"],
                    resources=[self.state_bucket.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [CHECKPOINT_PREFIX + "/*"]}},
                )
            )
            if name != "Report" and secrets:
                role.add_to_principal_policy(
                    iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=secrets)
                )
