"""Firehose delivery of Marketing Stream v1 (``stream.delivery: "firehose"``): per dataset a delivery stream into
the raw bucket, in the layout the ingest Lambda writes, and the two roles Amazon's Firehose template requires.

Layout: ``dataset=<id>/dt=<YYYY-MM-DD>/hour=<HH>/`` of newline-delimited gzip JSON, so the Glue tables and views
of the SQS path serve unchanged. Firehose's dynamic partitioning computes dt and hour with a JQ query
(``partition_query``) as ``adsbridge.stream.partition.partition_of`` does: a metric record by its
``time_window_start`` converted to UTC, any other record by its arrival (Firehose's processing time). A metric
record without a readable ``time_window_start``, or one outside the tables' projection, goes to the error prefix
(``firehose-errors/``) where the SQS path would dead-letter it. Records delivered this way lack the columns
ingest adds (``_received_at``, ``_message_id``, ``_realm``): they read as null, and the views still de-duplicate
by ``idempotency_id`` (docs/marketing-stream.md#deduplication).

Roles (docs/amazon-api-models.md, Amazon's ``Stream_Firehose_CF_Template.yaml``): the *subscription role* that
Amazon's SNS topics assume to put records (trusted by SNS and Amazon's ReviewerRole), and the *subscriber role*
Amazon's SubscriberRole assumes to subscribe the stream to that dataset's topics in this region and pass the
subscription role.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3

from adsbridge.stream.amazon_principals import REVIEWER_ROLE, SUBSCRIBER_ROLE
from adsbridge.stream.datasets import Dataset, Realm
from adsbridge.stream.partition import PROJECTION_START
from constructs import Construct
from infra.constructs.acks import acknowledge

ERROR_PREFIX = "firehose-errors/"
# Dynamic partitioning needs a buffer of at least 64 MiB (Amazon's template, without it, buffers 5 MB); the
# interval, 300 s as in Amazon's template, is what flushes an hour's records in practice.
BUFFER_MB = 64
BUFFER_SECONDS = 300
# UNVERIFIED: that Amazon's SNS subscription hands Firehose the bare record (raw message delivery), as the
# queries below read it; were it an SNS envelope, every metric record would land under the error prefix.
# A time_window_start carries the advertiser's offset (docs/marketing-stream.md#datasets): its UTC moment is the
# local time read as UTC minus the offset; fractions of a second are dropped ([0:19]).
_UTC_WINDOW_START = (
    '(.time_window_start | (.[0:19] + "Z" | fromdateiso8601) - (if endswith("Z") then 0 else '
    '(.[-6:] | ((.[1:3] | tonumber) * 3600 + (.[4:6] | tonumber) * 60) * (if startswith("-") then -1 else 1 end)) end))'
)
_PARTITIONS = '{dt: ($t | strftime("%Y-%m-%d")), hour: ($t | strftime("%H"))}'


def partition_query(dataset: Dataset) -> str:
    """Firehose's JQ 1.6 metadata extraction query: the record's ``{dt, hour}``, as partition_of files it."""
    if not dataset.is_metric:
        return f"now as $t | {_PARTITIONS}"
    in_projection = f'($t | strftime("%Y-%m-%d")) as $d | $d >= "{PROJECTION_START.isoformat()}" and $d <= (now | strftime("%Y-%m-%d"))'
    return f'{_UTC_WINDOW_START} as $t | if {in_projection} then {_PARTITIONS} else error("outside the projection") end'


class FirehoseDelivery(Construct):
    """``streams``, ``subscription_roles`` and ``subscriber_roles`` by dataset id."""

    def __init__(
        self, scope: Construct, construct_id: str, *, realm: Realm, datasets: Sequence[Dataset], bucket: s3.IBucket
    ) -> None:
        super().__init__(scope, construct_id)
        log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        log_stream = logs.LogStream(self, "S3Delivery", log_group=log_group)
        self.delivery_role = iam.Role(
            self,
            "DeliveryRole",
            assumed_by=iam.ServicePrincipal(
                "firehose.amazonaws.com",
                conditions={
                    "StringEquals": {"sts:ExternalId": cdk.Aws.ACCOUNT_ID, "aws:SourceAccount": cdk.Aws.ACCOUNT_ID}
                },
            ),
            description="Firehose writes Marketing Stream records into the raw bucket",
        )
        object_prefixes = [bucket.arn_for_objects(f"dataset={d.id}/*") for d in datasets]
        self.delivery_role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:AbortMultipartUpload", "s3:PutObject"],
                resources=[*object_prefixes, bucket.arn_for_objects(f"{ERROR_PREFIX}*")],
            )
        )
        self.delivery_role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                resources=[bucket.bucket_arn],
            )
        )
        self.delivery_role.add_to_policy(
            iam.PolicyStatement(actions=["logs:PutLogEvents"], resources=[log_group.log_group_arn])
        )
        acknowledge(
            self.delivery_role,
            {
                f"AwsSolutions-IAM5[Resource::<{_logical(bucket)}.Arn>/{p}*]": "Firehose names the objects at run "
                "time, under this prefix only"
                for p in [*(f"dataset={d.id}/" for d in datasets), ERROR_PREFIX]
            },
        )
        self.streams: dict[str, firehose.CfnDeliveryStream] = {}
        self.subscription_roles: dict[str, iam.Role] = {}
        self.subscriber_roles: dict[str, iam.Role] = {}
        for dataset in datasets:
            self._dataset(realm, dataset, bucket, log_group.log_group_name, log_stream.log_stream_name)

    def _dataset(self, realm: Realm, dataset: Dataset, bucket: s3.IBucket, log_group: str, log_stream: str) -> None:
        processors = [
            _processor(
                "MetadataExtraction", MetadataExtractionQuery=partition_query(dataset), JsonParsingEngine="JQ-1.6"
            ),
            _processor("AppendDelimiterToRecord", Delimiter="\\n"),  # one JSON object per line, as Athena reads it
        ]
        stream = firehose.CfnDeliveryStream(
            self,
            f"Stream-{dataset.id}",
            delivery_stream_type="DirectPut",
            delivery_stream_encryption_configuration_input=firehose.CfnDeliveryStream.DeliveryStreamEncryptionConfigurationInputProperty(
                key_type="AWS_OWNED_CMK"
            ),
            extended_s3_destination_configuration=firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty(
                bucket_arn=bucket.bucket_arn,
                role_arn=self.delivery_role.role_arn,
                prefix=f"dataset={dataset.id}/dt=!{{partitionKeyFromQuery:dt}}/hour=!{{partitionKeyFromQuery:hour}}/",
                error_output_prefix=f"{ERROR_PREFIX}dataset={dataset.id}/!{{firehose:error-output-type}}/"
                "!{timestamp:yyyy-MM-dd}/",
                compression_format="GZIP",
                file_extension=".json.gz",  # what ingest writes: Athena picks the codec by extension
                buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(
                    size_in_m_bs=BUFFER_MB, interval_in_seconds=BUFFER_SECONDS
                ),
                dynamic_partitioning_configuration=firehose.CfnDeliveryStream.DynamicPartitioningConfigurationProperty(
                    enabled=True
                ),
                processing_configuration=firehose.CfnDeliveryStream.ProcessingConfigurationProperty(
                    enabled=True, processors=processors
                ),
                cloud_watch_logging_options=firehose.CfnDeliveryStream.CloudWatchLoggingOptionsProperty(
                    enabled=True, log_group_name=log_group, log_stream_name=log_stream
                ),
            ),
        )
        stream.node.add_dependency(self.delivery_role)  # its policy must be in place before Firehose checks it
        subscription_role = iam.Role(
            self,
            f"SubscriptionRole-{dataset.id}",
            assumed_by=iam.CompositePrincipal(_amazons_topics(realm, dataset), iam.ArnPrincipal(REVIEWER_ROLE)),
            description=f"Amazon's SNS topics put {dataset.id} records into its delivery stream",
            inline_policies={
                "PutRecords": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=["firehose:PutRecord", "firehose:PutRecordBatch"], resources=[stream.attr_arn]
                        )
                    ]
                )
            },
        )
        subscriber_role = iam.Role(
            self,
            f"SubscriberRole-{dataset.id}",
            assumed_by=iam.ArnPrincipal(SUBSCRIBER_ROLE).with_session_tags(),
            description=f"Amazon subscribes the {dataset.id} delivery stream to its topics",
            inline_policies={
                "Subscribe": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(actions=["iam:PassRole"], resources=[subscription_role.role_arn]),
                        iam.PolicyStatement(
                            actions=["sns:Subscribe", "sns:Unsubscribe"], resources=[dataset.sns_source_arn(realm)]
                        ),
                    ]
                )
            },
        )
        acknowledge(
            subscriber_role,
            {
                f"AwsSolutions-IAM5[Resource::{dataset.sns_source_arn(realm)}]": "Amazon does not publish its AMS "
                "topic names; limited to Amazon's SNS account for this dataset in this region"
            },
        )
        self.streams[dataset.id] = stream
        self.subscription_roles[dataset.id] = subscription_role
        self.subscriber_roles[dataset.id] = subscriber_role


def _amazons_topics(realm: Realm, dataset: Dataset) -> iam.ServicePrincipal:
    """SNS on behalf of Amazon's topics for this dataset in this realm only, as its queue policy allows them
    (``adsbridge.stream.queues.amazon_statements``): no one else's topic can make SNS write into the stream.
    UNVERIFIED: that SNS sets these keys when it assumes a Firehose subscription role, as it does sending to SQS."""
    return iam.ServicePrincipal(
        "sns.amazonaws.com",
        conditions={
            "ArnLike": {"aws:SourceArn": dataset.sns_source_arn(realm)},
            "StringEquals": {"aws:SourceAccount": dataset.accounts[realm]},
        },
    )


def _processor(kind: str, **parameters: str) -> firehose.CfnDeliveryStream.ProcessorProperty:
    return firehose.CfnDeliveryStream.ProcessorProperty(
        type=kind,
        parameters=[
            firehose.CfnDeliveryStream.ProcessorParameterProperty(parameter_name=k, parameter_value=v)
            for k, v in parameters.items()
        ],
    )


def _logical(bucket: s3.IBucket) -> str:
    stack = cdk.Stack.of(bucket)
    return str(stack.resolve(stack.get_logical_id(bucket.node.default_child)))  # type: ignore[arg-type]
