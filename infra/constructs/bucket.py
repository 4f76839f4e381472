"""The one way adsbridge makes a bucket: S3-managed encryption (or a customer-managed KMS key with the bucket key
on, where another account writes under it), public access blocked, TLS only, retained.

Each bucket is either access-logged into the stack's log bucket or says why S3 access logs would add nothing
(acknowledged for cdk-nag's S1 where the bucket is), so no bucket is left unlogged by accident.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from constructs import Construct
from infra.constructs.acks import acknowledge


def secure_bucket(
    scope: Construct,
    construct_id: str,
    *,
    lifecycle_rules: Sequence[s3.LifecycleRule],
    access_logs: s3.IBucket | None = None,
    unlogged_because: str | None = None,
    versioned: bool = False,
    encryption_key: kms.IKey | None = None,
) -> s3.Bucket:
    if (access_logs is None) == (unlogged_because is None):
        raise ValueError(f"bucket {construct_id}: give access_logs or the reason it has none, not both")
    bucket = s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.KMS if encryption_key else s3.BucketEncryption.S3_MANAGED,
        encryption_key=encryption_key,
        bucket_key_enabled=True if encryption_key else None,  # one KMS call per object batch, not per object
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=versioned,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=f"{construct_id.lower()}/" if access_logs else None,
        lifecycle_rules=list(lifecycle_rules),
        removal_policy=RemovalPolicy.RETAIN,
    )
    if unlogged_because:
        acknowledge(bucket, {"AwsSolutions-S1": unlogged_because})
    return bucket
