"""StreamStack: one per AMS realm, pinned to the realm's AWS region (AMS supports no other).

Per dataset a Standard queue whose policy is exactly Amazon's (SNS from the dataset's account in this
region, ReviewerRole GetQueueAttributes) with a DLQ; one ingest Lambda consuming all of them in large
batches; the raw bucket; a Glue table per dataset with partition projection; an Athena workgroup and
the views over those tables (infra/stream/views.py); alarms and a dashboard (infra/stream/operations.py);
the configured subscriptions to Amazon (infra/stream/subscriptions.py).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs

from adsbridge.stream import datasets
from adsbridge.stream.datasets import Dataset, Realm
from adsbridge.stream.handlers.environment import IngestEnvironment
from adsbridge.stream.partition import DT_PROJECTION_RANGE
from adsbridge.stream.queues import QueueSettings, amazon_statements
from adsbridge.stream.views import PARTITION_KEYS, table_columns
from constructs import Construct
from infra.constructs.acks import acknowledge
from infra.constructs.bucket import secure_bucket
from infra.constructs.function import AdsbridgeFunction
from infra.constructs.region_rule import deploy_only_in
from infra.stream.config import StreamConfig
from infra.stream.firehose import FirehoseDelivery
from infra.stream.operations import StreamOperations
from infra.stream.subscriptions import MONITOR_SERVICE, StreamSubscriptions
from infra.stream.views import AthenaViews, athena_workgroup

INGEST_SERVICE = "stream-ingest"  # Powertools service name: the "service" dimension of the ingest metrics


class StreamStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, realm: Realm, config: StreamConfig, region: str | None = None
    ) -> None:
        if (region or realm.aws_region) != realm.aws_region:
            raise ValueError(f"region: AMS delivers {realm} data only in {realm.aws_region}, not {region}")
        super().__init__(scope, construct_id, env=cdk.Environment(region=realm.aws_region))
        self.realm = realm
        # Like Amazon's template: deployment fails too if the stack ever reaches another region.
        deploy_only_in(self, "RealmRegion", realm.aws_region, why=f"AMS {realm} queues must be in {realm.aws_region}")
        chosen = [datasets.get(d) for d in config.datasets]
        timeout = cdk.Duration.seconds(config.lambda_timeout_seconds)
        realm_name = f"adsbridge-stream-{realm.value.lower()}"  # the workgroup's and the dashboard's name

        self.bucket = secure_bucket(
            self,
            "Raw",
            versioned=True,  # an overwritten or deleted object can be restored for a month
            lifecycle_rules=[
                s3.LifecycleRule(
                    noncurrent_version_expiration=cdk.Duration.days(30),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
            unlogged_because="raw zone written only by the ingest Lambda; CloudTrail data events are the audit "
            "trail, not S3 access logs",
        )

        # SQS delivery: a queue per dataset and the ingest Lambda on them all; Firehose delivery: a delivery stream
        # per dataset writes the same layout, so neither queues nor ingest exist.
        self.ingest: AdsbridgeFunction | None = None
        self.firehose: FirehoseDelivery | None = None
        self.queues: dict[str, sqs.Queue] = {}
        self.dlqs: dict[str, sqs.Queue] = {}
        if config.delivery_in(realm) == "firehose":
            self.firehose = FirehoseDelivery(self, "Firehose", realm=realm, datasets=chosen, bucket=self.bucket)
        else:
            ingest = self.ingest = self._ingest(realm, config, chosen, timeout)
            settings = QueueSettings(ingest_timeout_seconds=config.lambda_timeout_seconds, prefix=config.queue_prefix)
            for dataset in chosen:
                self._queue(dataset, config, settings, ingest)
        self.subscriptions = (
            StreamSubscriptions(
                self, "Subscriptions", realm=realm, config=config, queues=self.queues, firehose=self.firehose
            )
            if config.subscriptions_in(realm)
            else None
        )
        self.operations = StreamOperations(
            self,
            "Operations",
            name=realm_name,
            queues=self.queues,
            dlqs=self.dlqs,
            ingest=self.ingest.function if self.ingest else None,
            ingest_service=INGEST_SERVICE,
            alarm_email=config.alarm_email,
            alarm_topic_arn=config.alarm_topic_arns.get(realm),
            subscription_monitor=(self.subscriptions.monitor.function, MONITOR_SERVICE) if self.subscriptions else None,
            delivery_streams={d: s.ref for d, s in self.firehose.streams.items()} if self.firehose else None,
        )

        self.database = f"adsbridge_stream_{realm.value.lower()}"
        db = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=self.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(name=self.database),
        )
        tables = [self._table(dataset) for dataset in chosen]
        for table in tables:
            table.add_resource_dependency(db)

        results, self.workgroup = athena_workgroup(self, realm_name)
        self.views = AthenaViews(
            self,
            "Views",
            database=self.database,
            workgroup=realm_name,
            results=results,
            selected=chosen,
            after=[self.workgroup, *tables],
        )

    def _ingest(
        self, realm: Realm, config: StreamConfig, chosen: list[Dataset], timeout: cdk.Duration
    ) -> AdsbridgeFunction:
        """The ingest Lambda, allowed to write the raw layout and confirm Amazon's subscriptions."""
        ingest = AdsbridgeFunction(
            self,
            "Ingest",
            handler="adsbridge.stream.handlers.ingest.lambda_handler",
            service=INGEST_SERVICE,
            description=f"adsbridge stream ingest ({realm})",
            timeout=timeout,
            memory_size=config.ingest_memory_mb,
            environment=IngestEnvironment.variables(
                bucket=self.bucket.bucket_name, realm=realm.value, queue_prefix=config.queue_prefix
            ),
        )
        sns_topics = [d.sns_source_arn(realm) for d in chosen]
        ingest.role.add_to_policy(
            iam.PolicyStatement(actions=["s3:PutObject"], resources=[self.bucket.arn_for_objects("dataset=*")])
        )
        ingest.role.add_to_policy(iam.PolicyStatement(actions=["sns:ConfirmSubscription"], resources=sns_topics))
        bucket_id = self.resolve(self.get_logical_id(self.bucket.node.default_child))  # type: ignore[arg-type]
        acknowledge(
            ingest.role,
            {
                f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/dataset=*]": "PutObject only, under dataset=<id>/dt=/hour= keys created at run time",
                **{
                    f"AwsSolutions-IAM5[Resource::{arn}]": "Amazon does not publish its AMS topic names; confirmation is limited to Amazon's SNS account for this dataset in this region"
                    for arn in sns_topics
                },
            },
        )
        return ingest

    def _queue(
        self, dataset: Dataset, config: StreamConfig, settings: QueueSettings, ingest: AdsbridgeFunction
    ) -> None:
        dlq = sqs.Queue(
            self,
            f"Dlq-{dataset.id}",
            queue_name=settings.dlq_name(dataset.id),
            retention_period=cdk.Duration.seconds(settings.dlq_retention_seconds),
            enforce_ssl=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
        )
        acknowledge(dlq, {"AwsSolutions-SQS3": "this is the dead-letter queue of the stream queue"})
        queue = sqs.Queue(
            self,
            f"Queue-{dataset.id}",
            queue_name=settings.name(dataset.id),
            retention_period=cdk.Duration.seconds(settings.retention_seconds),
            receive_message_wait_time=cdk.Duration.seconds(settings.receive_wait_seconds),
            visibility_timeout=cdk.Duration.seconds(settings.visibility_timeout_seconds),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=settings.max_receive_count),
            enforce_ssl=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
        )
        for statement in amazon_statements(dataset, self.realm, queue.queue_arn):
            queue.add_to_resource_policy(iam.PolicyStatement.from_json(statement))
        ingest.function.add_event_source(
            sources.SqsEventSource(
                queue,
                batch_size=config.batch_size,
                max_batching_window=cdk.Duration.seconds(config.batching_window_seconds),
                report_batch_item_failures=True,
                max_concurrency=config.ingest_max_concurrency,
            )
        )
        self.queues[dataset.id], self.dlqs[dataset.id] = queue, dlq

    def _table(self, dataset: Dataset) -> glue.CfnTable:
        location = f"s3://{self.bucket.bucket_name}/dataset={dataset.id}/"
        columns = [glue.CfnTable.ColumnProperty(name=name, type=kind) for name, kind in table_columns(dataset)]
        return glue.CfnTable(
            self,
            f"Table-{dataset.id}",
            catalog_id=self.account,
            database_name=self.database,
            table_input=glue.CfnTable.TableInputProperty(
                name=dataset.table,
                table_type="EXTERNAL_TABLE",
                partition_keys=[glue.CfnTable.ColumnProperty(name=key, type="string") for key in PARTITION_KEYS],
                parameters={
                    "classification": "json",
                    "compressionType": "gzip",
                    "projection.enabled": "true",
                    "projection.dt.type": "date",
                    "projection.dt.format": "yyyy-MM-dd",
                    "projection.dt.range": DT_PROJECTION_RANGE,  # ingest refuses records outside it
                    "projection.hour.type": "integer",
                    "projection.hour.range": "0,23",
                    "projection.hour.digits": "2",
                    "storage.location.template": f"{location}dt=${{dt}}/hour=${{hour}}/",
                },
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    columns=columns,
                    location=location,
                    input_format="org.apache.hadoop.mapred.TextInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.openx.data.jsonserde.JsonSerDe",
                        parameters={"ignore.malformed.json": "true", "case.insensitive": "true"},
                    ),
                ),
            ),
        )


def build_stream_stacks(app: cdk.App, config: StreamConfig) -> list[StreamStack]:
    """One StreamStack per configured realm, each in its realm's region."""
    return [StreamStack(app, f"AdsbridgeStream-{realm.value}", realm=realm, config=config) for realm in config.realms]
