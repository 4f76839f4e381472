"""Prepare: validate settings, plan chunks, make the audience ready. Event: ``{job, source, execution}``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from adsbridge.export.handlers import runtime
from adsbridge.export.handlers.runtime import logger, tracer
from adsbridge.export.payloads import JobSpec, SourceObject
from adsbridge.export.steps import prepare_run


class PrepareEvent(BaseModel):
    job: JobSpec
    source: SourceObject
    execution: str  # the execution's name: it claims the run
    execution_arn: str | None = None  # lets a later execution see that this one stopped without a report


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = PrepareEvent.model_validate(event)
    logger.append_keys(job=request.job.name)
    with runtime.retry_later(context):
        prepared = prepare_run(
            request.job, request.source, request.execution, runtime.services(), execution_arn=request.execution_arn
        )
    run = prepared.run
    logger.info("prepared", extra={"run_id": run.run_id, "chunks": len(prepared.chunks), "reused": run.reused_audience})
    return prepared.model_dump(mode="json")
