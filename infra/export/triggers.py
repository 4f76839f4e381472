"""What starts a job: an EventBridge rule on S3 drops under ``incoming/<prefix>``, or EventBridge Scheduler
schedules that run the job's Athena query first; what neither could deliver goes to one dead-letter queue."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn

from adsbridge.export.payloads import INCOMING
from adsbridge.export.trigger import SOURCE_PATHS, job_input, object_created_pattern
from infra.constructs.acks import acknowledge
from infra.constructs.dead_letters import dead_letter_queue
from infra.export.config import ExportConfig, JobConfig
from infra.export.storage import QUERY_RESULTS, ExportStorage


class JobTriggers:
    """``dead_letters``: the start dead-letter queue (None without jobs). Builds in ``stack``'s own scope
    (logical ids: infra/export/stack.py)."""

    def __init__(self, stack: Stack, config: ExportConfig, storage: ExportStorage, machine: sfn.StateMachine) -> None:
        self._stack, self._storage, self._machine = stack, storage, machine
        self.dead_letters: sqs.Queue | None = (
            dead_letter_queue(stack, "StartDeadLetters", of="the job rules and schedules") if config.jobs else None
        )
        dropped = [job for job in config.jobs if job.trigger.prefix]
        if dropped:
            rule_role = self._rule_role()
            for job in dropped:
                self._rule(job, rule_role)
        scheduled = [job for job in config.jobs if job.trigger.schedule]
        for job in scheduled:
            self._schedule(job)
        if scheduled:
            _grant_queries(stack, storage, machine.role, scheduled)

    def _rule_role(self) -> iam.Role:
        """The role the job rules start executions with; EventBridge may assume it only for this account's rules."""
        return iam.Role(
            self._stack,
            "RuleRole",
            description="adsbridge export: EventBridge starts the export state machine",
            assumed_by=iam.ServicePrincipal(
                "events.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID},
                    "ArnLike": {
                        "aws:SourceArn": self._stack.format_arn(service="events", resource="rule", resource_name="*")
                    },
                },
            ),
        )

    def _rule(self, job: JobConfig, role: iam.Role) -> None:
        prefix = job.trigger.prefix
        assert prefix is not None
        pattern = object_created_pattern(self._storage.input_bucket.bucket_name, prefix)
        events.Rule(
            self._stack,
            f"Job-{job.name}",
            description=f"adsbridge export job {job.name}: objects under {INCOMING}{prefix}",
            event_pattern=events.EventPattern(
                source=pattern["source"], detail_type=pattern["detail-type"], detail=pattern["detail"]
            ),
            targets=[
                targets.SfnStateMachine(
                    self._machine,
                    dead_letter_queue=self.dead_letters,
                    role=role,
                    input=events.RuleTargetInput.from_object(
                        {
                            "job": job_input(job.spec()),
                            "source": {name: events.EventField.from_path(path) for name, path in SOURCE_PATHS.items()},
                        }
                    ),
                )
            ],
        )

    def _schedule(self, job: JobConfig) -> None:
        """One Scheduler schedule per expression of the job's cron, in its time zone, each starting an execution
        whose input carries the query (no source yet), the scheduled time and the delay.

        The first keeps the id ``Schedule-<job>`` a one-expression job always had, so a deployed schedule is
        updated, not replaced. An instant two of them match starts two executions with one scheduled time:
        the state machine runs the first and ends the other (ClaimSchedule).
        """
        schedule = job.trigger.schedule
        assert schedule is not None
        for index, expression in enumerate(schedule.expressions):
            scheduler.Schedule(
                self._stack,
                f"Schedule-{job.name}" + (f"-{index + 1}" if index else ""),
                description=f"adsbridge export job {job.name}: Athena query, then export its result",
                schedule=scheduler.ScheduleExpression.expression(expression, cdk.TimeZone.of(schedule.timezone)),
                target=scheduler_targets.StepFunctionsStartExecution(
                    self._machine,
                    dead_letter_queue=self.dead_letters,
                    input=scheduler.ScheduleTargetInput.from_object(
                        {
                            "job": job_input(job.spec()),
                            "query": {
                                "sql": schedule.query,
                                "database": schedule.database,
                                "workgroup": schedule.workgroup,
                                "bucket": self._storage.input_bucket.bucket_name,
                                "prefix": _results_prefix(job),
                            },
                            "scheduled_time": scheduler.ContextAttribute.scheduled_time,
                            "delay_seconds": schedule.delay_seconds,
                        }
                    ),
                ),
            )


def _grant_queries(stack: Stack, storage: ExportStorage, role: iam.IRole, jobs: list[JobConfig]) -> None:
    """Athena runs a query with its caller's rights: the state machine's role gets exactly what the queries need."""
    input_bucket = storage.input_bucket
    schedules = [job.trigger.schedule for job in jobs if job.trigger.schedule]
    databases = sorted({schedule.database for schedule in schedules})
    results = [input_bucket.arn_for_objects(_results_prefix(job) + "*") for job in jobs]
    tables = [_glue_arn(stack, f"table/{database}/*") for database in databases]
    locations = sorted({location for schedule in schedules for location in schedule.data_locations})
    data = [_s3_arn(location) + "*" for location in locations]
    statements = [
        (["athena:StartQueryExecution", "athena:GetQueryExecution"],
         [stack.format_arn(service="athena", resource="workgroup", resource_name=schedule.workgroup)
          for schedule in schedules]),
        (["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
         [_glue_arn(stack, "catalog"), *(_glue_arn(stack, f"database/{db}") for db in databases), *tables]),
        (["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"], results),
        (["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"], [input_bucket.bucket_arn]),
    ]  # fmt: skip
    if data:
        statements.append((["s3:GetObject"], data))
        buckets = {_s3_arn(location).split("/")[0] for location in locations}
        statements.append((["s3:GetBucketLocation", "s3:ListBucket"], list(buckets)))
    for actions, resources in statements:
        role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=sorted(set(resources))))
    acknowledged: dict[str, str] = {}
    for job in jobs:
        acknowledged[
            f"AwsSolutions-IAM5[Resource::<{storage.logical_id(input_bucket)}.Arn>/{_results_prefix(job)}*]"
        ] = f"Athena writes job {job.name}'s query results only under this prefix of the input bucket"
    for database in databases:
        table = f"arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/{database}/*"
        acknowledged[f"AwsSolutions-IAM5[Resource::{table}]"] = (
            f"the scheduled queries read tables of Glue database {database} only; which ones is in the SQL"
        )
    for location in locations:
        objects = _s3_arn(location).replace(cdk.Aws.PARTITION, "<AWS::Partition>") + "*"
        acknowledged[f"AwsSolutions-IAM5[Resource::{objects}]"] = (
            f"read-only: the data of the queried tables, configured as {location}"
        )
    acknowledge(role, acknowledged)


def _glue_arn(stack: Stack, resource: str) -> str:
    kind, _, name = resource.partition("/")
    return stack.format_arn(
        service="glue", resource=kind, resource_name=name or None, arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME
    )


def _results_prefix(job: JobConfig) -> str:
    assert job.trigger.schedule is not None
    return QUERY_RESULTS + (job.trigger.schedule.output_prefix or f"{job.name}/")


def _s3_arn(location: str) -> str:
    """``s3://bucket/prefix/`` as an object ARN prefix (``arn:<partition>:s3:::bucket/prefix/``)."""
    return f"arn:{cdk.Aws.PARTITION}:s3:::{location.removeprefix('s3://')}"
