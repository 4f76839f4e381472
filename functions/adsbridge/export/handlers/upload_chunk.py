"""UploadChunk: one chunk's rows → hashed records → Amazon, checkpointed. Event: ``{job, source, run, chunk, concurrency}``."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from adsbridge.export.chunks import Chunk
from adsbridge.export.handlers import runtime
from adsbridge.export.handlers.runtime import logger, tracer
from adsbridge.export.payloads import JobSpec, RunInfo, SourceObject
from adsbridge.export.steps import upload_chunk


class UploadChunkEvent(BaseModel):
    job: JobSpec
    source: SourceObject
    run: RunInfo
    chunk: Chunk
    concurrency: Annotated[int, Field(ge=1)]  # the Map's MaxConcurrency: this invocation's share of the pace


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = UploadChunkEvent.model_validate(event)
    logger.append_keys(job=request.job.name, run_id=request.run.run_id, chunk=request.chunk.index)
    with runtime.retry_later(context):
        summary = upload_chunk(
            request.job, request.source, request.run, request.chunk, request.concurrency, runtime.services()
        )
    logger.info("chunk done", extra=summary)
    return summary
