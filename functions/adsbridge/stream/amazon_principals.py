"""Amazon Marketing Stream's own IAM roles, in one place: every queue, bucket, key and role policy names them from here.

Amazon's account 926844853897 holds the roles its templates grant (docs/marketing-stream.md#queue-policy and
docs/amazon-api-models.md#marketing-stream-v2-subscriptions): ReviewerRole checks a destination exists (SQS queue
attributes, a bucket listing nothing), PublisherRole writes Stream v2 files and notifications, SubscriberRole
assumes the customer's subscriber role to subscribe a Firehose destination to Amazon's topics.
"""

from __future__ import annotations

AMAZON_ACCOUNT = "926844853897"


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{AMAZON_ACCOUNT}:role/{name}"


REVIEWER_ROLE = role_arn("ReviewerRole")
PUBLISHER_ROLE = role_arn("PublisherRole")
SUBSCRIBER_ROLE = role_arn("SubscriberRole")
