"""Lambda entry point of the Athena view custom resource (logic: ``adsbridge.stream.view_installer``)."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from adsbridge.stream.athena import AthenaRunner
from adsbridge.stream.handlers.environment import ViewInstallerEnvironment
from adsbridge.stream.view_installer import on_event

logger = Logger()


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return on_event(
        event, AthenaRunner(boto3.client("athena"), workgroup=ViewInstallerEnvironment.from_environ().workgroup)
    )
