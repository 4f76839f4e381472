"""ClaimSchedule: a scheduled execution claims its scheduled time. Event: ``{job, scheduled_time, execution}``.

Returns ``{"claimed": false}`` when another execution already runs this job for that instant (two schedules of
one TD cron matching it): the state machine then ends quietly.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from adsbridge.export.handlers import runtime
from adsbridge.export.handlers.runtime import logger, tracer
from adsbridge.export.payloads import JOB_NAME
from adsbridge.export.schedule_claim import SCHEDULED_TIME, claim_scheduled_time


class ClaimEvent(BaseModel):
    job: Annotated[str, Field(pattern=JOB_NAME)]
    scheduled_time: Annotated[str, Field(pattern=SCHEDULED_TIME)]
    execution: str


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = ClaimEvent.model_validate(event)
    logger.append_keys(job=request.job, scheduled_time=request.scheduled_time)
    services = runtime.services()
    claimed = claim_scheduled_time(
        services.s3, services.state_bucket, request.job, request.scheduled_time, request.execution
    )
    logger.info("scheduled time claimed" if claimed else "already run for this scheduled time")
    return {"claimed": claimed}
