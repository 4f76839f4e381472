"""The export stack's buckets: input (S3 drops under ``incoming/``, scheduled queries' results) and state
(checkpoints, reports, schedule claims, the audience registry), both access-logged into a third bucket."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_s3 as s3

from adsbridge.export.checkpoint import CHECKPOINT_PREFIX
from adsbridge.export.payloads import INCOMING
from adsbridge.export.registry import REGISTRY_PREFIX
from adsbridge.export.report import REPORT_PREFIX
from adsbridge.export.schedule_claim import SCHEDULE_PREFIX
from infra.constructs.bucket import secure_bucket
from infra.export.config import ExportConfig

QUERY_RESULTS = "athena-results/"  # scheduled jobs' query results: row data, so in the input bucket and expiring


class ExportStorage:
    """Builds in ``stack``'s own scope (logical ids: see infra/export/stack.py)."""

    def __init__(self, stack: Stack, config: ExportConfig) -> None:
        self._stack = stack
        access_logs = _bucket(
            stack,
            "AccessLogs",
            expire_days=config.state_retention_days,
            logs_bucket=None,
            unlogged_because="this is the access-log bucket; logging it into itself would loop",
        )
        self.input_bucket = _bucket(
            stack,
            "Input",
            expire_days=config.raw_retention_days,
            logs_bucket=access_logs,
            prefixes=(INCOMING, QUERY_RESULTS),
            events=True,
        )
        # Checkpoints, reports and scheduled-time claims expire; the audience registry (what a repeated CREATE
        # appends to) does not.
        self.state_bucket = _bucket(
            stack,
            "State",
            expire_days=config.state_retention_days,
            logs_bucket=access_logs,
            prefixes=(f"{CHECKPOINT_PREFIX}/", f"{REPORT_PREFIX}/", f"{SCHEDULE_PREFIX}/"),
        )

    def state_objects(self, prefix: str) -> str:
        """The ARN of the state bucket's objects under ``prefix`` (a key prefix without its slash)."""
        return self.state_bucket.arn_for_objects(prefix + "/*")

    def logical_id(self, bucket: s3.Bucket) -> str:
        cfn = bucket.node.default_child
        assert isinstance(cfn, s3.CfnBucket)
        return self._stack.get_logical_id(cfn)

    def prefix_findings(self, resources: list[str], reason: str) -> dict[str, str]:
        """cdk-nag's IAM5 finding for each of ``resources`` that is one known prefix of a bucket, with ``reason``."""
        known = {
            self.input_bucket.arn_for_objects(INCOMING + "*"): (self.input_bucket, INCOMING.rstrip("/")),
            self.input_bucket.arn_for_objects(QUERY_RESULTS + "*"): (self.input_bucket, QUERY_RESULTS.rstrip("/")),
            **{
                self.state_objects(prefix): (self.state_bucket, prefix)
                for prefix in (CHECKPOINT_PREFIX, REPORT_PREFIX, REGISTRY_PREFIX, SCHEDULE_PREFIX)
            },
        }
        return {
            f"AwsSolutions-IAM5[Resource::<{self.logical_id(bucket)}.Arn>/{prefix}/*]": reason
            for bucket, prefix in (known[resource] for resource in resources if resource in known)
        }


def _bucket(
    stack: Stack,
    name: str,
    *,
    expire_days: int,
    logs_bucket: s3.IBucket | None,
    prefixes: tuple[str, ...] = (),
    events: bool = False,
    unlogged_because: str | None = None,
) -> s3.Bucket:
    bucket = secure_bucket(
        stack,
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
