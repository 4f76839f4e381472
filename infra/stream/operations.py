"""What an operator watches per realm: alarms on stuck and dead-lettered messages and ingest errors, where
they notify, and one dashboard.

A message in a DLQ failed five receives and needs a look, then ``adsbridge streams redrive``; a message older
than an hour in a source queue means ingest is not keeping up with Amazon's hourly delivery (Amazon's own
CloudWatch template uses the same 3600 s, docs/marketing-stream.md#queue-settings-and-monitoring).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from adsbridge.stream.subscription_monitor import STALE, metric_name
from constructs import Construct
from infra.constructs.alarm_topic import alarm_topics
from infra.constructs.metric_alarm import PERIOD, alarm_above, powertools_metric

OLDEST_MESSAGE_SECONDS = 3600
MONITOR_PERIOD = cdk.Duration.hours(1)  # the subscription monitor runs hourly
SUBSCRIPTION_ALARMS = {
    "FAILED_CONFIRMATION": "nobody confirmed within Amazon's deadline; subscribe again (`adsbridge streams subscribe`) "
    "and archive the failed one (`adsbridge streams archive`), which otherwise keeps this alarm on",
    "FAILED_PROVISIONING": "Amazon could not set up delivery; check the destination, subscribe again and archive the "
    "failed one, which otherwise keeps this alarm on",
    "SUSPENDED": "the queue or the token's user broke the subscription; it cannot be reactivated: fix the cause, "
    "subscribe again and archive the suspended one",
    STALE: "pending confirmation for over a day: check the queue policy and the ingest function's DLQ",
}


class StreamOperations(Construct):
    """``alarms`` by purpose, ``topic`` (every alarm's action) and ``dashboard``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        queues: dict[str, sqs.Queue],
        dlqs: dict[str, sqs.Queue],
        ingest: lambda_.Function | None,
        ingest_service: str,
        alarm_email: str | None,
        alarm_topic_arn: str | None,
        subscription_monitor: tuple[lambda_.Function, str] | None = None,
        delivery_streams: dict[str, str] | None = None,
    ) -> None:
        """``subscription_monitor`` is the monitor function and its service name, when subscriptions are managed."""
        super().__init__(scope, construct_id)
        self.topics = self._topics(alarm_email, alarm_topic_arn)
        self.alarms: dict[str, cw.Alarm] = {}
        for dataset_id, dlq in dlqs.items():
            self._alarm(
                f"Dlq-{dataset_id}",
                dlq.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
                threshold=0,
                description=f"{dataset_id}: messages in the dead-letter queue; inspect them, then "
                f"`adsbridge streams redrive --dataset {dataset_id}`",
            )
        for dataset_id, queue in queues.items():
            self._alarm(
                f"Age-{dataset_id}",
                queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum"),
                threshold=OLDEST_MESSAGE_SECONDS,
                description=f"{dataset_id}: a message has waited over an hour; ingest is falling behind",
            )
        if ingest:  # none when Firehose delivers the realm's datasets
            self._alarm(
                "IngestErrors",
                ingest.metric_errors(period=PERIOD, statistic="Sum"),
                threshold=0,
                description="the ingest Lambda failed a whole invocation (partial batch failures are MessagesFailed)",
            )
        for dataset_id, stream_name in (delivery_streams or {}).items():  # Firehose delivery, by dataset
            self._alarm(
                f"Freshness-{dataset_id}",
                cw.Metric(
                    namespace="AWS/Firehose",
                    metric_name="DeliveryToS3.DataFreshness",
                    dimensions_map={"DeliveryStreamName": stream_name},
                    period=PERIOD,
                    statistic="Maximum",
                ),
                threshold=OLDEST_MESSAGE_SECONDS,
                description=f"{dataset_id}: Firehose holds a record over an hour undelivered; check its error logs",
            )
        if subscription_monitor:
            self._subscription_alarms(*subscription_monitor)
        self.dashboard = self._dashboard(name, queues, dlqs, ingest, ingest_service)
        if subscription_monitor:
            self._subscription_widgets(*subscription_monitor)

    def _subscription_alarms(self, monitor: lambda_.Function, service: str) -> None:
        for status, advice in SUBSCRIPTION_ALARMS.items():
            metric = subscription_metric(status, service)
            self._alarm(metric_name(status), metric, threshold=0, description=f"{metric_name(status)}: {advice}")
        self._alarm(
            "SubscriptionMonitorErrors",
            monitor.metric_errors(period=MONITOR_PERIOD, statistic="Sum"),
            threshold=0,
            description="the subscription monitor failed, so the subscription alarms have no fresh data",
        )

    def _subscription_widgets(self, monitor: lambda_.Function, service: str) -> None:
        """The monitor's hourly counts: healthy subscriptions beside the ones that need the operator."""
        healthy = [subscription_metric(s, service) for s in ("ACTIVE", "PENDING_CONFIRMATION", "PROVISIONING")]
        broken = [subscription_metric(s, service) for s in SUBSCRIPTION_ALARMS]
        self.dashboard.add_widgets(
            cw.GraphWidget(title="Subscriptions delivering or starting", left=healthy, width=8, height=6),
            cw.GraphWidget(title="Subscriptions needing action", left=broken, width=8, height=6),
            cw.GraphWidget(
                title="Subscription monitor errors",
                left=[monitor.metric_errors(period=MONITOR_PERIOD, statistic="Sum")],
                width=8,
                height=6,
            ),
        )

    def _topics(self, email: str | None, arn: str | None) -> list[sns.ITopic]:
        return alarm_topics(
            self, "AlarmTopic", email=email, arns=[arn] if arn else [], description="adsbridge stream alarm topic"
        )

    def _alarm(self, construct_id: str, metric: cw.Metric, *, threshold: float, description: str) -> None:
        self.alarms[construct_id] = alarm_above(
            self, construct_id, metric, threshold=threshold, description=description, topics=self.topics
        )

    def _dashboard(
        self,
        name: str,
        queues: dict[str, sqs.Queue],
        dlqs: dict[str, sqs.Queue],
        ingest: lambda_.Function | None,
        service: str,
    ) -> cw.Dashboard:
        def per_queue(source: dict[str, sqs.Queue], metric: str, statistic: str) -> list[cw.IMetric]:
            return [q.metric(metric, period=PERIOD, statistic=statistic, label=d) for d, q in source.items()]

        def ours(metric: str) -> cw.IMetric:
            return powertools_metric(metric, service)

        def graph(title: str, metrics: list[cw.IMetric], width: int = 12) -> cw.GraphWidget:
            return cw.GraphWidget(title=title, left=metrics, width=width, height=6)

        dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=name)
        dashboard.add_widgets(
            cw.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()), width=24, height=4)
        )
        if ingest is None:
            return dashboard
        dashboard.add_widgets(
            graph("Messages received per queue", per_queue(queues, "NumberOfMessagesReceived", "Sum")),
            graph("Messages deleted per queue", per_queue(queues, "NumberOfMessagesDeleted", "Sum")),
        )
        dashboard.add_widgets(
            graph("DLQ depth", per_queue(dlqs, "ApproximateNumberOfMessagesVisible", "Maximum")),
            graph("Oldest message age (s)", per_queue(queues, "ApproximateAgeOfOldestMessage", "Maximum")),
        )
        dashboard.add_widgets(
            graph(
                "Ingest errors and throttles",
                [ingest.metric_errors(period=PERIOD), ingest.metric_throttles(period=PERIOD)],
                8,
            ),
            graph(
                "Ingest duration (ms)",
                [ingest.metric_duration(period=PERIOD, statistic=s) for s in ("Average", "p99", "Maximum")],
                8,
            ),
            graph(
                "Ingest concurrency",
                [ingest.metric("ConcurrentExecutions", period=PERIOD, statistic="Maximum")],
                8,
            ),
        )
        dashboard.add_widgets(
            graph("Objects and records written", [ours("ObjectsWritten"), ours("RecordsWritten")]),
            graph(
                "Messages failed, write failures, truncated payloads",
                [ours("MessagesFailed"), ours("WriteFailures"), ours("TruncatedPayloads")],
            ),
        )
        return dashboard


def subscription_metric(status: str, service: str) -> cw.Metric:
    """One status count of the hourly subscription monitor ``service`` (its latest value per hour); the v2
    monitor counts its statuses the same way, under ``V2_PREFIX``."""
    return powertools_metric(metric_name(status), service, period=MONITOR_PERIOD, statistic="Maximum")
