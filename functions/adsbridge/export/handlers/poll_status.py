"""PollStatus: one slice of a job-status polling round, bounded by max_wait_time. Event: ``{job, run, poll}``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from adsbridge.export.handlers import runtime
from adsbridge.export.handlers.runtime import logger, tracer
from adsbridge.export.payloads import JobSpec, PollState, RunInfo
from adsbridge.export.steps import poll_run


class PollEvent(BaseModel):
    job: JobSpec
    run: RunInfo
    poll: PollState


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = PollEvent.model_validate(event)
    logger.append_keys(job=request.job.name, run_id=request.run.run_id)
    with runtime.retry_later(context):
        state = poll_run(
            request.job, request.run, request.poll, runtime.services(), remaining=runtime.DEADLINE.remaining
        )
    logger.info("polled", extra=state.model_dump())
    return state.model_dump()
