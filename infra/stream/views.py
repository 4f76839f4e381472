"""The stack's Athena views, one custom resource each, created in dependency order by our view installer.

Why not ``AwsCustomResource`` calling ``Athena.startQueryExecution``: that call only queues the statement and
the resource succeeds at once, so a failed ``CREATE VIEW`` would never fail the deployment, and chaining the
resources would not make ``*_hourly`` wait until its ``*_dedup`` exists (Athena resolves a view's sources
when it creates it). ``adsbridge.stream.view_installer`` waits for each statement and raises on failure;
``custom_resources.Provider`` (infra/stream/provider.py) runs it and reports to CloudFormation.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_athena as athena
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from adsbridge.stream.datasets import Dataset
from adsbridge.stream.handlers.environment import ViewInstallerEnvironment
from adsbridge.stream.views import View, views
from constructs import Construct, IDependable
from infra.constructs.acks import acknowledge
from infra.constructs.bucket import secure_bucket
from infra.constructs.function import AdsbridgeFunction
from infra.stream.provider import provider_for

RESULTS_PREFIX = "results/"
ATHENA_ENGINE_VERSION = "Athena engine version 3"  # Trino-based


def athena_workgroup(scope: Construct, name: str) -> tuple[s3.Bucket, athena.CfnWorkGroup]:
    """The query-results bucket and the workgroup ``name`` that views are created and queried in (in ``scope``).

    The engine is pinned: the views are tested against Trino's dialect (tests/infra/stream/test_view_sql.py), and an
    automatic upgrade would change the engine under them unannounced.
    """
    results = secure_bucket(
        scope,
        "AthenaResults",
        lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(30))],
        unlogged_because="query results expire after 30 days; Athena's own query history records access",
    )
    workgroup = athena.CfnWorkGroup(
        scope,
        "WorkGroup",
        name=name,
        work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
            enforce_work_group_configuration=True,
            engine_version=athena.CfnWorkGroup.EngineVersionProperty(selected_engine_version=ATHENA_ENGINE_VERSION),
            publish_cloud_watch_metrics_enabled=True,
            result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                output_location=f"s3://{results.bucket_name}/{RESULTS_PREFIX}",
                encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                    encryption_option="SSE_S3"
                ),
            ),
        ),
    )
    return results, workgroup


class AthenaViews(Construct):
    """``resources`` maps view name → its custom resource, in creation order."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        database: str,
        workgroup: str,
        results: s3.IBucket,
        selected: list[Dataset],
        after: list[IDependable],
        extra: Sequence[View] = (),
        reads: Sequence[str] = (),
    ) -> None:
        """``extra``: views rendered elsewhere (Stream v2's), created after those of ``selected``; ``reads``: other
        Glue databases of this region whose tables the views select from (v1's, for Stream v2's SP v1/v2 view).
        """
        super().__init__(scope, construct_id)
        rendered = [*views(database, selected), *extra]
        installer = AdsbridgeFunction(
            self,
            "Installer",
            handler="adsbridge.stream.handlers.view_installer.lambda_handler",
            service="stream-views",
            description=f"adsbridge Athena view installer ({database})",
            timeout=cdk.Duration.minutes(2),
            environment=ViewInstallerEnvironment.variables(workgroup=workgroup),
        )
        self._grant(installer.role, database, workgroup, results, rendered, reads)

        provider = provider_for(self, installer.function)

        self.resources: dict[str, cdk.CustomResource] = {}
        previous: list[IDependable] = after
        for view in rendered:
            resource = cdk.CustomResource(
                self,
                f"View-{view.name}",
                service_token=provider.service_token,
                resource_type="Custom::AthenaView",
                # Sources: the view is re-created when a table it reads gains or changes a column (View's docstring).
                properties={"Database": database, "View": view.name, "Sql": view.sql, "Sources": view.sources},
            )
            resource.node.add_dependency(*previous)  # views() lists each view after the views it selects from
            previous = [resource]
            self.resources[view.name] = resource

    def _grant(
        self,
        role: iam.Role,
        database: str,
        workgroup: str,
        results: s3.IBucket,
        rendered: list[View],
        reads: Sequence[str],
    ) -> None:
        stack = cdk.Stack.of(self)

        def glue(resource: str) -> str:
            return stack.format_arn(service="glue", resource=resource)

        catalog, db = glue("catalog"), glue(f"database/{database}")
        # One ARN per table would push the role's policy past IAM's size limit.
        readable = [arn for name in (database, *reads) for arn in (glue(f"database/{name}"), glue(f"table/{name}/*"))]
        view_arns = [glue(f"table/{database}/{v.name}") for v in rendered]
        statements = [
            iam.PolicyStatement(
                actions=["athena:StartQueryExecution", "athena:GetQueryExecution"],
                resources=[stack.format_arn(service="athena", resource="workgroup", resource_name=workgroup)],
            ),
            iam.PolicyStatement(actions=["glue:GetDatabase", "glue:GetTable"], resources=[catalog, *readable]),
            iam.PolicyStatement(  # views are Glue tables; only ours may be written, the raw tables stay read-only
                actions=["glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable"],
                resources=[catalog, db, *view_arns],
            ),
            iam.PolicyStatement(actions=["s3:GetBucketLocation", "s3:ListBucket"], resources=[results.bucket_arn]),
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:GetObject"], resources=[results.arn_for_objects(f"{RESULTS_PREFIX}*")]
            ),
        ]
        for statement in statements:
            role.add_to_principal_policy(statement)
        acknowledge(
            role,
            {
                f"AwsSolutions-IAM5[Resource::<{self._logical_id(results.node.default_child)}.Arn>/{RESULTS_PREFIX}*]": (
                    "Athena writes DDL results under results/<query id> chosen at run time, in the stack's own "
                    "results bucket"
                ),
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:glue:{stack.region}:<AWS::AccountId>:table/{database}/*]": (
                    "GetTable/GetDatabase only, on this stack's own Glue database: Athena reads the metadata of every "
                    "table a view selects from; writes are limited to the views by name"
                ),
                **{
                    f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:glue:{stack.region}:<AWS::AccountId>:table/{name}/*]": (
                        f"GetTable/GetDatabase only, on {name}, whose tables and views this stack's views select from: "
                        "Athena reads the metadata of each, through the views it reads too"
                    )
                    for name in reads
                },
            },
        )

    def _logical_id(self, element: object) -> str:
        stack = cdk.Stack.of(self)
        return str(stack.resolve(stack.get_logical_id(element)))  # type: ignore[arg-type]
