"""What the operator hears: alarms on failed executions and undelivered starts, and Notify, one message per
finished execution, all to the alarm topics."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn

from adsbridge.export.checkpoint import CHECKPOINT_PREFIX
from adsbridge.export.handlers.environment import NOTIFY_HANDLER, NotifyEnvironment
from adsbridge.export.notify import FINISHED
from adsbridge.export.report import REPORT_PREFIX
from infra.constructs.acks import acknowledge
from infra.constructs.alarm_topic import alarm_topics
from infra.constructs.dead_letters import dead_letter_queue
from infra.constructs.function import AdsbridgeFunction
from infra.constructs.metric_alarm import alarm_above
from infra.constructs.region_rule import deploy_only_in
from infra.export.config import ExportConfig
from infra.export.functions import PREFIX_REASON, TASK_TIMEOUT
from infra.export.storage import ExportStorage

PERIOD = Duration.minutes(5)


class ExportNotifications:
    """Builds in ``stack``'s own scope (logical ids: infra/export/stack.py)."""

    def __init__(
        self,
        stack: Stack,
        config: ExportConfig,
        storage: ExportStorage,
        machine: sfn.StateMachine,
        start_dead_letters: sqs.IQueue | None,
    ) -> None:
        self._stack, self._storage, self._machine = stack, storage, machine
        if config.alarm_region:  # an alarm can notify only a topic in its own region
            deploy_only_in(
                stack,
                "AlarmTopicRegion",
                config.alarm_region,
                why=f"alarm_topic_arns are in {config.alarm_region}: deploy there",
            )
        topics = alarm_topics(
            stack,
            "AlarmTopic",
            email=config.alarm_email,
            arns=config.alarm_topic_arns,
            description="adsbridge export alarm topic",
        )
        self._alarms(start_dead_letters, topics)
        self.notify_function = self._notify(topics)

    def _alarms(self, start_dead_letters: sqs.IQueue | None, topics: list[sns.ITopic]) -> None:
        """A failed execution, and a start EventBridge or Scheduler could not deliver, each notify the operator."""
        alarm_above(
            self._stack,
            "FailedExecutions",
            self._machine.metric_failed(period=PERIOD),
            threshold=1,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            description="an audience export failed: read its report under reports/<job>/ in the state bucket",
            topics=topics,
        )
        if start_dead_letters:
            alarm_above(
                self._stack,
                "UndeliveredStarts",
                start_dead_letters.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
                threshold=0,
                description="a job start could not reach the state machine; its event is in the "
                "StartDeadLetters queue: start the job again with that input",
                topics=topics,
            )

    def _notify(self, topics: list[sns.ITopic]) -> AdsbridgeFunction:
        """Notify: every finished execution's status-change event → one message to the alarm topics.

        Its own dead-letter queue: a notification EventBridge could not deliver is not a job start.
        """
        storage = self._storage
        function = AdsbridgeFunction(
            self._stack,
            "Notify",
            handler=NOTIFY_HANDLER,
            service="export",
            timeout=TASK_TIMEOUT,
            description="adsbridge export: Notify",
            environment=NotifyEnvironment.variables(
                state_bucket=storage.state_bucket.bucket_name,
                alarm_topics=self._stack.to_json_string([topic.topic_arn for topic in topics]),
            ),
        )
        role = function.role
        reports = storage.state_objects(REPORT_PREFIX)
        checkpoints = storage.state_objects(CHECKPOINT_PREFIX)
        for actions, resources in (
            (["s3:GetObject", "s3:PutObject"], [reports]),
            (["s3:GetObject"], [checkpoints]),
            (["s3:ListBucket"], [storage.state_bucket.bucket_arn]),  # NoSuchKey for a missing report; finds claims
        ):
            role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=resources))
        for topic in topics:
            topic.grant_publish(role)  # with our own topic's key: kms:Decrypt, kms:GenerateDataKey*
        acknowledge(
            role,
            {
                **storage.prefix_findings([reports, checkpoints], PREFIX_REASON),
                "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]": "publishing to the alarm topic encrypted "
                "under its own key needs a data key; granted on that key only",
            },
        )
        events.Rule(
            self._stack,
            "ExecutionFinished",
            description="adsbridge export: a finished execution of the export state machine notifies",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={"stateMachineArn": [self._machine.state_machine_arn], "status": list(FINISHED)},
            ),
            targets=[
                targets.LambdaFunction(
                    function.function,
                    dead_letter_queue=dead_letter_queue(self._stack, "NotifyDeadLetters", of="the notification rule"),
                    retry_attempts=8,
                    max_event_age=Duration.hours(6),
                )
            ],
        )
        return function
