"""Lambda entry point of the subscription custom resource (logic: ``adsbridge.stream.subscription_resource``)."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from adsbridge.stream.handlers.environment import SecretEnvironment
from adsbridge.stream.subscription_resource import client_from_secret, on_event

logger = Logger()


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return on_event(
        event, client_from_secret(SecretEnvironment.from_environ().secret_name, boto3.client("secretsmanager"))
    )
