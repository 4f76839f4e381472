"""Where an adsbridge stack's alarms notify: a topic of the operator's, or our own encrypted topic that emails.

Our own topic enforces TLS (cdk-nag SNS3), and that policy would otherwise hold only the TLS deny, which
refuses CloudWatch's ``sns:Publish``: an alarm would fire and notify no one. So the topic policy and the key
policy (CloudWatch cannot publish to a topic under the AWS managed SNS key) both allow the CloudWatch service
principal, only on behalf of this account (``aws:SourceAccount``, against the confused deputy).
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions

from constructs import Construct

CLOUDWATCH = "cloudwatch.amazonaws.com"


def alarm_topics(
    scope: Construct, construct_id: str, *, email: str | None, arns: Sequence[str], description: str
) -> list[sns.ITopic]:
    """The operator's topics ``arns``; else our own topic, emailing ``email`` when given.

    Ours is created even without an address, so that every alarm has an action: the operator subscribes to
    it later (its ARN is the stack output ``AlarmTopicArn``).
    """
    if arns:
        return [sns.Topic.from_topic_arn(scope, f"{construct_id}{n}", arn) for n, arn in enumerate(arns)]
    topic = cloudwatch_topic(scope, construct_id, description=description)
    if email:
        topic.add_subscription(subscriptions.EmailSubscription(email))
    cdk.CfnOutput(cdk.Stack.of(scope), "AlarmTopicArn", value=topic.topic_arn, description="where the alarms notify")
    return [topic]


def cloudwatch_topic(scope: Construct, construct_id: str, *, description: str) -> sns.Topic:
    """A new encrypted topic, without subscribers, that this account's alarms may publish to."""
    same_account = {"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}}
    key = kms.Key(scope, f"{construct_id}Key", enable_key_rotation=True, description=description)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(CLOUDWATCH)],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
            conditions=same_account,
        )
    )
    topic = sns.Topic(scope, construct_id, master_key=key, enforce_ssl=True)
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(CLOUDWATCH)],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions=same_account,
        )
    )
    return topic


def notify(alarm: cw.Alarm, topics: Sequence[sns.ITopic]) -> None:
    """Alarm and recovery both go to every topic."""
    for topic in topics:
        alarm.add_alarm_action(cw_actions.SnsAction(topic))
        alarm.add_ok_action(cw_actions.SnsAction(topic))
