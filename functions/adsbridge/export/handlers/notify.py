"""Notify: one message per finished export execution. Event: EventBridge's "Step Functions Execution Status
Change" for this stack's state machine (not a state-machine task: it runs after the execution ends).

The logic is ``adsbridge.export.notify``; this builds its clients from the environment.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from adsbridge.export.handlers.environment import NotifyEnvironment
from adsbridge.export.handlers.runtime import logger, tracer
from adsbridge.export.notify import handle, no_ads
from adsbridge.export.steps import Services


@lru_cache(maxsize=1)
def clients() -> tuple[Services, Any]:
    import boto3

    state_bucket = NotifyEnvironment.from_environ().state_bucket
    return Services(s3=boto3.client("s3"), state_bucket=state_bucket, ads=no_ads), boto3.client("sns")


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    services, sns = clients()
    outcome = handle(event, services, sns, NotifyEnvironment.from_environ().alarm_topics)
    logger.info("execution finished", extra=outcome.model_dump() | {"status": event["detail"].get("status")})
    return outcome.model_dump()
