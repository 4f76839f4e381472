"""Where Amazon lands Stream v2 data in one region, exactly as Amazon's v2 template builds it.

Amazon's PublisherRole writes Parquet files into the data bucket and a notification per file into the queue;
its ReviewerRole checks that both exist (docs/amazon-api-models.md#marketing-stream-v2-subscriptions, from
Amazon's ``StreamV2_S3_CF_Template.yaml``). Bucket and queue each have their own customer-managed key whose
policy lets PublisherRole encrypt only through that service in this region (``kms:ViaService``), so the role
cannot use the key for anything else. The ReviewerRole may list the bucket with a prefix condition no request
satisfies (``StringNotLike s3:prefix "*"``): it sees that the bucket exists, and no object names.

``bucket``, ``key``, ``queue`` (and ``policies``, for resources that need Amazon's grants in place first) are
for the subscriptions and the catalog added to the same stack.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from adsbridge.stream.amazon_principals import PUBLISHER_ROLE, REVIEWER_ROLE
from constructs import Construct, IDependable
from infra.constructs.acks import acknowledge
from infra.constructs.bucket import secure_bucket
from infra.constructs.metric_alarm import PERIOD, alarm_above

# Amazon's template's notification queue (docs/amazon-api-models.md#marketing-stream-v2-subscriptions)
RECEIVE_WAIT = cdk.Duration.seconds(20)
VISIBILITY = cdk.Duration.seconds(300)
RETENTION = cdk.Duration.days(14)
MAX_RECEIVE_COUNT = 5
NONCURRENT_DAYS = 30  # a replaced or deleted file can be restored for a month


class StreamV2Landing(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, region: str, alarm_topics: Sequence[sns.ITopic]) -> None:
        super().__init__(scope, construct_id)
        publisher = iam.ArnPrincipal(PUBLISHER_ROLE)
        self.key = self._publisher_key("DataKey", "s3", region, "Stream v2 data bucket")
        logs = secure_bucket(
            self,
            "AccessLogs",
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(90))],
            unlogged_because="this is the access-log bucket; logging it into itself would loop",
        )
        self.bucket = secure_bucket(
            self,
            "Data",
            versioned=True,
            encryption_key=self.key,
            access_logs=logs,
            lifecycle_rules=[
                s3.LifecycleRule(
                    noncurrent_version_expiration=cdk.Duration.days(NONCURRENT_DAYS),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AmazonPublisherWrites",
                principals=[publisher],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects("*")],
            )
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AmazonReviewerSeesTheBucketOnly",
                principals=[iam.ArnPrincipal(REVIEWER_ROLE)],
                actions=["s3:ListBucket"],
                resources=[self.bucket.bucket_arn],
                conditions={"StringNotLike": {"s3:prefix": "*"}},
            )
        )

        self.queue_key = self._publisher_key("QueueKey", "sqs", region, "Stream v2 notification queue")
        self.dlq = sqs.Queue(
            self,
            "Dlq",
            retention_period=RETENTION,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.queue_key,
            enforce_ssl=True,
        )
        acknowledge(self.dlq, {"AwsSolutions-SQS3": "this is the dead-letter queue of the notification queue"})
        self.queue = sqs.Queue(
            self,
            "Notifications",
            retention_period=RETENTION,
            receive_message_wait_time=RECEIVE_WAIT,
            visibility_timeout=VISIBILITY,
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=MAX_RECEIVE_COUNT),
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.queue_key,
            enforce_ssl=True,
        )
        self.queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AmazonPublisherNotifies",
                principals=[publisher],
                actions=["sqs:SendMessage"],
                resources=[self.queue.queue_arn],
            )
        )
        self.queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AmazonReviewerChecksTheQueue",
                principals=[iam.ArnPrincipal(REVIEWER_ROLE)],
                actions=["sqs:GetQueueAttributes"],
                resources=[self.queue.queue_arn],
            )
        )
        queue_policy = self.queue.node.find_child("Policy")  # the sqs.QueuePolicy add_to_resource_policy made
        assert self.bucket.policy and isinstance(queue_policy, sqs.QueuePolicy)
        self.policies: list[IDependable] = [self.bucket.policy, queue_policy]

        self.dlq_alarm = alarm_above(
            self,
            "DlqAlarm",
            self.dlq.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
            threshold=0,
            description="Stream v2 notifications the catalog failed five times; inspect them and move them back",
            topics=alarm_topics,
        )

        stack = cdk.Stack.of(self)
        destination = {"bucketArn": self.bucket.bucket_arn, "notification": {"queueArn": self.queue.queue_arn}}
        cdk.CfnOutput(
            self,
            "Destination",
            value=stack.to_json_string(destination),
            description="the destination of Amazon's create-stream-subscription request",
        )
        cdk.CfnOutput(self, "BucketName", value=self.bucket.bucket_name, description="where v2 files land")
        cdk.CfnOutput(self, "QueueArn", value=self.queue.queue_arn, description="where v2 notifications arrive")

    def _publisher_key(self, construct_id: str, service: str, region: str, what: str) -> kms.Key:
        """A rotated key PublisherRole may encrypt with only through ``service`` in ``region``."""
        key = kms.Key(self, construct_id, enable_key_rotation=True, description=f"adsbridge {what}")
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"AmazonPublisherVia{service.upper()}",
                principals=[iam.ArnPrincipal(PUBLISHER_ROLE)],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={"StringEquals": {"kms:ViaService": f"{service}.{region}.amazonaws.com"}},
            )
        )
        return key
