"""An adsbridge Lambda function with the project's defaults, so every function is built the same way.

arm64 + Python 3.14, code from the Docker-free build (``scripts/build_lambda.py``), its own log group with
retention and a role that may write only there (no AWS managed policy), X-Ray tracing, Powertools settings.
The code is the main asset unless the function asks for the one with pyarrow: pyarrow alone is about 156 MB of
Lambda's 250 MB per function, so only the function that reads Parquet carries it (scripts/build_lambda.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from adsbridge import METRICS_NAMESPACE
from constructs import Construct
from infra.constructs.acks import acknowledge

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = lambda_.Runtime.PYTHON_3_14  # keep in step with scripts/build_lambda.py PYTHON_VERSION
ARCHITECTURE = lambda_.Architecture.ARM_64


class LambdaAsset(Enum):
    """The built folders (scripts/build_lambda.py ``ASSETS``): ``MAIN`` without pyarrow, ``PYARROW`` with it."""

    MAIN = ".build/lambda"
    PYARROW = ".build/lambda-pyarrow"

    @property
    def path(self) -> Path:
        return ROOT / self.value


def lambda_code(asset: LambdaAsset = LambdaAsset.MAIN) -> lambda_.Code:
    """The built package; fails with the fix when ``make build`` has not run."""
    if not (asset.path / ".stamp").exists():
        raise FileNotFoundError(f"{asset.path} is not built: run `make build` (scripts/build_lambda.py) first")
    return lambda_.Code.from_asset(str(asset.path))


class AdsbridgeFunction(Construct):
    """``function`` is the Lambda; ``log_group`` its explicitly retained logs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        service: str,
        description: str,
        timeout: Duration | None = None,
        memory_size: int = 512,
        environment: Mapping[str, str] | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        asset: LambdaAsset = LambdaAsset.MAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(self, "Logs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY)
        self.role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=description
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=lambda_code(asset),
            handler=handler,
            description=description,
            timeout=timeout or Duration.minutes(1),
            memory_size=memory_size,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            role=self.role,
            logging_format=lambda_.LoggingFormat.JSON,
            environment={
                "POWERTOOLS_SERVICE_NAME": service,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                **(environment or {}),
            },
        )
        # Tracing adds xray:PutTraceSegments/PutTelemetryRecords on "*": X-Ray has no resource-level permissions.
        # tests/infra checks that "*" resources in any adsbridge policy carry X-Ray actions only.
        acknowledge(self.role, {"AwsSolutions-IAM5[Resource::*]": "X-Ray trace writes cannot be scoped to a resource"})
