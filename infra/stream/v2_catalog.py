"""The catalog that follows Stream v2's files in one landing: the Glue database and one table per v2 dataset, the
catalog Lambda on the notification queue, and the v2 views in Athena (adsbridge/stream/v2/).

Concurrency: the event source may run several catalog invocations at once (a 70-day backfill lands hundreds of
files together). Reserved concurrency 1 would serialise them, but SQS's poller keeps receiving while the function
is throttled, and throttled receives count towards the queue's receive limit, sending good notifications to the
DLQ. Instead every column change is an ``UpdateTable`` with the ``VersionId`` it read, retried on Glue's
``ConcurrentModificationException`` (adsbridge/stream/v2/catalog.py), so two files adding columns lose neither.

Grants, least privilege: ``s3:GetObject`` on the data bucket's objects (the key layout is UNVERIFIED, so no narrower
prefix is known) and ``kms:Decrypt`` with its key; the queue's consumption with ``kms:Decrypt`` of the queue's key
(the event source's grant); on Glue only GetTable, UpdateTable and BatchCreatePartition of this database's tables.

Alarms (``alarms``, on the catalog's Powertools metrics): ``ColumnTypeConflicts`` above 0, since that column of the
file stays unreadable until someone acts (the table's type is never changed for it), and ``MessagesFailed`` above 0,
which counts every refused notification (each ``Refused_<reason>`` is also a failed message) whatever its reason,
one added later included, and every other failure. One alarm per reason would notify twice for one message.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from adsbridge.stream.handlers.environment import V2CatalogEnvironment
from adsbridge.stream.v2 import amazon
from adsbridge.stream.v2.table import table_input
from adsbridge.stream.v2.views import v2_views
from constructs import Construct
from infra.constructs.acks import acknowledge
from infra.constructs.function import AdsbridgeFunction, LambdaAsset
from infra.constructs.metric_alarm import alarm_above, powertools_metric
from infra.stream.views import AthenaViews, athena_workgroup

SERVICE = "stream-v2-catalog"
BATCH_SIZE = 10  # notifications per invocation: one footer GET (two at most) each
MAX_CONCURRENCY = 5  # the event source's cap; UpdateTable retries absorb races (module docstring)
TIMEOUT = cdk.Duration.minutes(2)  # below the notification queue's 300 s visibility timeout
ALARMS = {  # metric → what the operator is told
    "ColumnTypeConflicts": "a landed v2 file has a column whose type the Glue table cannot take, so Athena cannot "
    "read that column of it until someone acts; the log line 'column type differs from the table's' names the table, "
    "column and both types (docs/marketing-stream.md, Schema growth)",
    "MessagesFailed": "the v2 catalog failed notifications. Refused ones (metric Refused_<reason>: not a file "
    "notification, a key layout or dataset the UNVERIFIED assumptions in adsbridge/stream/v2/amazon.py do not "
    "match, not Parquet, an unsupported column type) fail every retry; others (Glue or S3 errors, in the log) may "
    "pass on retry. After five receives a message goes to the dead-letter queue",
}


class StreamV2Catalog(Construct):
    """``name`` (lower case, dashes) names the Glue database (dashes → underscores) and the Athena workgroup;
    ``v1_database``: the v1 stream database in this region whose ``sp_traffic_hourly`` the SP v1/v2 view reads;
    ``alarm_topics``: where ``alarms`` (by metric name) notify.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        bucket: s3.IBucket,
        key: kms.IKey,
        queue: sqs.IQueue,
        alarm_topics: Sequence[sns.ITopic],
        v1_database: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.database = name.replace("-", "_")
        database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=stack.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(name=self.database),
        )
        self.tables = []
        for dataset in amazon.DATASETS:
            table = cdk.CfnResource(
                self,
                f"Table-{dataset}",
                type="AWS::Glue::Table",
                properties={
                    "CatalogId": stack.account,
                    "DatabaseName": self.database,
                    "TableInput": table_input(dataset, bucket.bucket_name),
                },
            )
            table.add_dependency(database)
            self.tables.append(table)

        self.function = AdsbridgeFunction(
            self,
            "Function",
            handler="adsbridge.stream.handlers.v2_catalog.lambda_handler",
            service=SERVICE,
            description=f"adsbridge Stream v2 catalog ({self.database})",
            timeout=TIMEOUT,
            environment=V2CatalogEnvironment.variables(database=self.database),
            asset=LambdaAsset.PYARROW,  # it reads each landed file's Parquet footer
        )
        self._grant(self.function.role, bucket, key)
        self.function.function.add_event_source(
            sources.SqsEventSource(
                queue, batch_size=BATCH_SIZE, report_batch_item_failures=True, max_concurrency=MAX_CONCURRENCY
            )
        )
        self.alarms: dict[str, cw.Alarm] = {
            name: alarm_above(
                self,
                f"{name}Alarm",
                powertools_metric(name, SERVICE),
                threshold=0,
                description=f"{name}: {advice}",
                topics=alarm_topics,
            )
            for name, advice in ALARMS.items()
        }

        results, self.workgroup = athena_workgroup(self, name)
        self.views = AthenaViews(
            self,
            "Views",
            database=self.database,
            workgroup=name,
            results=results,
            selected=[],
            after=[self.workgroup, *self.tables],
            extra=[view for dataset in amazon.DATASETS for view in v2_views(self.database, dataset, v1_database)],
            reads=[v1_database] if v1_database else [],
        )

    def _grant(self, role: iam.Role, bucket: s3.IBucket, key: kms.IKey) -> None:
        stack = cdk.Stack.of(self)
        tables = [
            stack.format_arn(service="glue", resource=f"table/{self.database}/{amazon.table_name(d)}")
            for d in amazon.DATASETS
        ]
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["glue:GetTable", "glue:UpdateTable", "glue:BatchCreatePartition"],
                resources=[
                    stack.format_arn(service="glue", resource="catalog"),
                    stack.format_arn(service="glue", resource=f"database/{self.database}"),
                    *tables,
                ],
            )
        )
        role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket.arn_for_objects("*")]))
        key.grant_decrypt(role)
        bucket_id = stack.resolve(stack.get_logical_id(bucket.node.default_child))  # type: ignore[arg-type]
        acknowledge(
            role,
            {
                f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/*]": "GetObject only (ranged reads of each landed "
                "file's footer); Amazon's object key layout is unverified, so no narrower prefix is known",
            },
        )
