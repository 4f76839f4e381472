"""ExportStack: S3 drop → EventBridge rule → the export state machine (ASL file) → reports in S3, with alarms.

``build_export_stacks(app, config)`` is what ``infra/app.py`` calls.
"""

from __future__ import annotations

import math

import aws_cdk as cdk
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn

from adsbridge.export.checkpoint import CHECKPOINT_PREFIX
from adsbridge.export.handlers import TASKS
from adsbridge.export.handlers.environment import NOTIFY_HANDLER, ExportEnvironment, NotifyEnvironment
from adsbridge.export.notify import FINISHED
from adsbridge.export.payloads import INCOMING
from adsbridge.export.registry import REGISTRY_PREFIX
from adsbridge.export.report import REPORT_PREFIX
from adsbridge.export.schedule_claim import SCHEDULE_PREFIX
from adsbridge.export.trigger import SOURCE_PATHS, job_input, object_created_pattern
from constructs import Construct
from infra.constructs.acks import acknowledge
from infra.constructs.alarm_topic import alarm_topics, notify
from infra.constructs.bucket import secure_bucket
from infra.constructs.function import AdsbridgeFunction
from infra.constructs.region_rule import deploy_only_in
from infra.export.config import ExportConfig, JobConfig
from infra.export.definition import ASL_FILE, MachineSettings

QUERY_RESULTS = "athena-results/"  # scheduled jobs' query results: row data, so in the input bucket and expiring
# UploadChunk: a chunk's batches, paced. Prepare: reads a CSV once to cut chunks outside quoted fields, so its
# limit is file size / S3 read speed. The other tasks make a few API calls each.
LONG_TASKS = {"UploadChunk", "Prepare"}
LONG_TIMEOUT = Duration.minutes(15)
TASK_TIMEOUT = Duration.minutes(2)
PERIOD = Duration.minutes(5)


def build_export_stacks(app: cdk.App, config: ExportConfig) -> list[cdk.Stack]:
    return [ExportStack(app, "AdsbridgeExport", config=config)]


class ExportStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: ExportConfig, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        access_logs = self._bucket(
            "AccessLogs",
            expire_days=config.state_retention_days,
            logs_bucket=None,
            unlogged_because="this is the access-log bucket; logging it into itself would loop",
        )
        self.input_bucket = self._bucket(
            "Input",
            expire_days=config.raw_retention_days,
            logs_bucket=access_logs,
            prefixes=(INCOMING, QUERY_RESULTS),
            events=True,
        )
        # Checkpoints, reports and scheduled-time claims expire; the audience registry (what a repeated CREATE
        # appends to) does not.
        self.state_bucket = self._bucket(
            "State",
            expire_days=config.state_retention_days,
            logs_bucket=access_logs,
            prefixes=(f"{CHECKPOINT_PREFIX}/", f"{REPORT_PREFIX}/", f"{SCHEDULE_PREFIX}/"),
        )
        self.functions = {
            name: AdsbridgeFunction(
                self,
                name,
                handler=handler,
                service="export",
                timeout=LONG_TIMEOUT if name in LONG_TASKS else TASK_TIMEOUT,
                description=f"adsbridge export: {name}",
                environment=ExportEnvironment.variables(state_bucket=self.state_bucket.bucket_name),
            )
            for name, handler in TASKS.items()
        }
        self._grant(config)
        machine_logs = logs.LogGroup(
            self, "MachineLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
        )
        self.state_machine = sfn.StateMachine(
            self,
            "Machine",
            state_machine_name=self.machine_name,
            definition_body=sfn.DefinitionBody.from_file(str(ASL_FILE)),
            definition_substitutions={
                **{f"{name}FunctionArn": fn.function.function_arn for name, fn in self.functions.items()},
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
            self.state_machine.role,
            {
                "AwsSolutions-IAM5[Resource::*]": "X-Ray writes and CloudWatch Logs vended-log delivery "
                "(logs:*LogDelivery*, resource policies) have no resource-level permissions"
            },
        )
        for fn in self.functions.values():
            self.state_machine.role.add_to_principal_policy(
                iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[fn.function.function_arn])
            )
        self.dead_letters = (
            self._dead_letters("StartDeadLetters", "the job rules and schedules") if config.jobs else None
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
            self._grant_queries(scheduled)
        self._alarms(config)

    def _alarms(self, config: ExportConfig) -> None:
        """A failed execution, and a start EventBridge or Scheduler could not deliver, each notify the operator."""
        if config.alarm_region:  # an alarm can notify only a topic in its own region
            deploy_only_in(
                self,
                "AlarmTopicRegion",
                config.alarm_region,
                why=f"alarm_topic_arns are in {config.alarm_region}: deploy there",
            )
        topics = alarm_topics(
            self,
            "AlarmTopic",
            email=config.alarm_email,
            arns=config.alarm_topic_arns,
            description="adsbridge export alarm topic",
        )
        alarms = [
            cloudwatch.Alarm(
                self,
                "FailedExecutions",
                metric=self.state_machine.metric_failed(period=PERIOD),
                threshold=1,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description="an audience export failed: read its report under reports/<job>/ in the state bucket",
            )
        ]
        if self.dead_letters:
            alarms.append(
                cloudwatch.Alarm(
                    self,
                    "UndeliveredStarts",
                    metric=self.dead_letters.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum"
                    ),
                    threshold=0,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    evaluation_periods=1,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                    alarm_description="a job start could not reach the state machine; its event is in the "
                    "StartDeadLetters queue: start the job again with that input",
                )
            )
        for alarm in alarms:
            notify(alarm, topics)
        self._notifications(topics)

    def _notifications(self, topics: list[sns.ITopic]) -> None:
        """Notify: every finished execution's status-change event → one message to the alarm topics.

        Its own dead-letter queue: a notification EventBridge could not deliver is not a job start.
        """
        self.notify_function = AdsbridgeFunction(
            self,
            "Notify",
            handler=NOTIFY_HANDLER,
            service="export",
            timeout=TASK_TIMEOUT,
            description="adsbridge export: Notify",
            environment=NotifyEnvironment.variables(
                state_bucket=self.state_bucket.bucket_name,
                alarm_topics=cdk.Stack.of(self).to_json_string([topic.topic_arn for topic in topics]),
            ),
        )
        role = self.notify_function.role
        reports = self.state_bucket.arn_for_objects(REPORT_PREFIX + "/*")
        checkpoints = self.state_bucket.arn_for_objects(CHECKPOINT_PREFIX + "/*")
        for actions, resources in (
            (["s3:GetObject", "s3:PutObject"], [reports]),
            (["s3:GetObject"], [checkpoints]),
            (["s3:ListBucket"], [self.state_bucket.bucket_arn]),  # NoSuchKey for a missing report; finds claims
        ):
            role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=resources))
        for topic in topics:
            topic.grant_publish(role)  # with our own topic's key: kms:Decrypt, kms:GenerateDataKey*
        prefix_reason = "object access is limited to this one prefix of this stack's bucket"
        acknowledge(
            role,
            {
                **{
                    f"AwsSolutions-IAM5[Resource::<{self._logical_id(bucket)}.Arn>/{prefix}/*]": prefix_reason
                    for bucket, prefix in self._prefixes([reports, checkpoints])
                },
                "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]": "publishing to the alarm topic encrypted "
                "under its own key needs a data key; granted on that key only",
            },
        )
        dead_letters = self._dead_letters("NotifyDeadLetters", "the notification rule")
        events.Rule(
            self,
            "ExecutionFinished",
            description="adsbridge export: a finished execution of the export state machine notifies",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={"stateMachineArn": [self.state_machine.state_machine_arn], "status": list(FINISHED)},
            ),
            targets=[
                targets.LambdaFunction(
                    self.notify_function.function,
                    dead_letter_queue=dead_letters,
                    retry_attempts=8,
                    max_event_age=Duration.hours(6),
                )
            ],
        )

    def _dead_letters(self, construct_id: str, of: str) -> sqs.Queue:
        """Where EventBridge (or Scheduler) puts what ``of`` could not deliver after its retries, for 14 days."""
        queue = sqs.Queue(
            self,
            construct_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            queue.node.default_child,  # type: ignore[arg-type]
            {"AwsSolutions-SQS3": f"this is the dead-letter queue of {of}"},
        )
        return queue

    def _rule_role(self) -> iam.Role:
        """The role the job rules start executions with; EventBridge may assume it only for this account's rules."""
        return iam.Role(
            self,
            "RuleRole",
            description="adsbridge export: EventBridge starts the export state machine",
            assumed_by=iam.ServicePrincipal(
                "events.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID},
                    "ArnLike": {"aws:SourceArn": self.format_arn(service="events", resource="rule", resource_name="*")},
                },
            ),
        )

    def _rule(self, job: JobConfig, role: iam.Role) -> None:
        prefix = job.trigger.prefix
        assert prefix is not None
        pattern = object_created_pattern(self.input_bucket.bucket_name, prefix)
        events.Rule(
            self,
            f"Job-{job.name}",
            description=f"adsbridge export job {job.name}: objects under {INCOMING}{prefix}",
            event_pattern=events.EventPattern(
                source=pattern["source"], detail_type=pattern["detail-type"], detail=pattern["detail"]
            ),
            targets=[
                targets.SfnStateMachine(
                    self.state_machine,
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
                self,
                f"Schedule-{job.name}" + (f"-{index + 1}" if index else ""),
                description=f"adsbridge export job {job.name}: Athena query, then export its result",
                schedule=scheduler.ScheduleExpression.expression(expression, cdk.TimeZone.of(schedule.timezone)),
                target=scheduler_targets.StepFunctionsStartExecution(
                    self.state_machine,
                    dead_letter_queue=self.dead_letters,
                    input=scheduler.ScheduleTargetInput.from_object(
                        {
                            "job": job_input(job.spec()),
                            "query": {
                                "sql": schedule.query,
                                "database": schedule.database,
                                "workgroup": schedule.workgroup,
                                "bucket": self.input_bucket.bucket_name,
                                "prefix": _results_prefix(job),
                            },
                            "scheduled_time": scheduler.ContextAttribute.scheduled_time,
                            "delay_seconds": schedule.delay_seconds,
                        }
                    ),
                ),
            )

    def _grant_queries(self, jobs: list[JobConfig]) -> None:
        """Athena runs a query with its caller's rights: the state machine's role gets exactly what the queries need."""
        role = self.state_machine.role
        schedules = [job.trigger.schedule for job in jobs if job.trigger.schedule]
        databases = sorted({schedule.database for schedule in schedules})
        results = [self.input_bucket.arn_for_objects(_results_prefix(job) + "*") for job in jobs]
        tables = [self._glue_arn(f"table/{database}/*") for database in databases]
        locations = sorted({location for schedule in schedules for location in schedule.data_locations})
        data = [_s3_arn(location) + "*" for location in locations]
        statements = [
            (["athena:StartQueryExecution", "athena:GetQueryExecution"],
             [self.format_arn(service="athena", resource="workgroup", resource_name=schedule.workgroup)
              for schedule in schedules]),
            (["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
             [self._glue_arn("catalog"), *(self._glue_arn(f"database/{db}") for db in databases), *tables]),
            (["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"], results),
            (["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
             [self.input_bucket.bucket_arn]),
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
                f"AwsSolutions-IAM5[Resource::<{self._logical_id(self.input_bucket)}.Arn>/{_results_prefix(job)}*]"
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

    def _glue_arn(self, resource: str) -> str:
        kind, _, name = resource.partition("/")
        return self.format_arn(
            service="glue", resource=kind, resource_name=name or None, arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME
        )

    def _bucket(
        self,
        name: str,
        *,
        expire_days: int,
        logs_bucket: s3.IBucket | None,
        prefixes: tuple[str, ...] = (),
        events: bool = False,
        unlogged_because: str | None = None,
    ) -> s3.Bucket:
        bucket = secure_bucket(
            self,
            name,
            access_logs=logs_bucket,
            unlogged_because=unlogged_because,
            lifecycle_rules=[
                s3.LifecycleRule(prefix=prefix, expiration=Duration.days(expire_days)) for prefix in prefixes or (None,)
            ],
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
            self.input_bucket.arn_for_objects(QUERY_RESULTS + "*"): (self.input_bucket, QUERY_RESULTS.rstrip("/")),
            self.state_bucket.arn_for_objects(CHECKPOINT_PREFIX + "/*"): (self.state_bucket, CHECKPOINT_PREFIX),
            self.state_bucket.arn_for_objects(REPORT_PREFIX + "/*"): (self.state_bucket, REPORT_PREFIX),
            self.state_bucket.arn_for_objects(REGISTRY_PREFIX + "/*"): (self.state_bucket, REGISTRY_PREFIX),
            self.state_bucket.arn_for_objects(SCHEDULE_PREFIX + "/*"): (self.state_bucket, SCHEDULE_PREFIX),
        }
        return [known[resource] for resource in resources if resource in known]

    @property
    def machine_name(self) -> str:
        """Named, so Prepare's role can name its executions without depending on the machine (a cycle)."""
        return f"{self.stack_name}-export"

    def _grant(self, config: ExportConfig) -> None:
        input_objects = [self.input_bucket.arn_for_objects(prefix + "*") for prefix in (INCOMING, QUERY_RESULTS)]
        checkpoints = self.state_bucket.arn_for_objects(CHECKPOINT_PREFIX + "/*")
        reports = self.state_bucket.arn_for_objects(REPORT_PREFIX + "/*")
        registry = self.state_bucket.arn_for_objects(REGISTRY_PREFIX + "/*")
        claims = self.state_bucket.arn_for_objects(SCHEDULE_PREFIX + "/*")
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
        prefix_reason = "object access is limited to this one prefix of this stack's bucket"
        executions = self.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{self.machine_name}:*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        executions_finding = (
            f"arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{self.machine_name}:*"
        )
        for name, statements in grants.items():
            role = self.functions[name].role
            acknowledged = {
                f"AwsSolutions-IAM5[Resource::<{self._logical_id(bucket)}.Arn>/{prefix}/*]": prefix_reason
                for actions, resources in statements
                for bucket, prefix in self._prefixes(resources)
            }
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
                iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.state_bucket.bucket_arn])
            )
            if name == "Prepare":  # is a run's owner still running? (an execution stopped by hand leaves no report)
                role.add_to_principal_policy(
                    iam.PolicyStatement(actions=["states:DescribeExecution"], resources=[executions])
                )
            if name not in ("Report", "ClaimSchedule") and secrets:
                role.add_to_principal_policy(
                    iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=secrets)
                )


def _results_prefix(job: JobConfig) -> str:
    assert job.trigger.schedule is not None
    return QUERY_RESULTS + (job.trigger.schedule.output_prefix or f"{job.name}/")


def _s3_arn(location: str) -> str:
    """``s3://bucket/prefix/`` as an object ARN prefix (``arn:<partition>:s3:::bucket/prefix/``)."""
    return f"arn:{cdk.Aws.PARTITION}:s3:::{location.removeprefix('s3://')}"
