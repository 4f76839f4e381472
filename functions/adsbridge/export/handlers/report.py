"""Report: aggregate checkpoints into the report JSON in S3, log its counts, emit metrics.

Event: ``{execution, state}`` where ``state`` is the execution state (``job``, ``source`` and, when the steps
got that far, ``prepared``, ``poll``; ``error`` on the Catch path, which makes the report FAILED).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from adsbridge.export.handlers import runtime
from adsbridge.export.handlers.runtime import logger, metrics, tracer
from adsbridge.export.payloads import JobSpec, PollState, Prepared, SourceObject, TaskError
from adsbridge.export.steps import report_run

LOGGED_FIELDS = ("status", "reason", "audience_id", "total_records", "uploaded_records", "skipped_records",
                 "invalid_records", "total_batches", "completed_batches", "matched_records", "duration_seconds")  # fmt: skip


class ExecutionState(BaseModel):
    job: JobSpec
    source: SourceObject | None = None  # None when a scheduled run failed before its query started
    prepared: Prepared | None = None
    poll: PollState | None = None
    error: TaskError | None = None


class ReportEvent(BaseModel):
    execution: str
    state: ExecutionState


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = ReportEvent.model_validate(event)
    state = request.state
    logger.append_keys(job=state.job.name, execution=request.execution)
    report, document, key = report_run(
        state.job, state.source, request.execution, runtime.services(),
        prepared=state.prepared, poll=state.poll, error=state.error,
    )  # fmt: skip
    logger.info("export report", extra={name: document[name] for name in LOGGED_FIELDS} | {"report_key": key})
    metrics.add_dimension(name="job", value=state.job.name)
    metrics.add_metric(name="RecordsUploaded", unit=MetricUnit.Count, value=report.uploaded_records)
    metrics.add_metric(name="RecordsSkipped", unit=MetricUnit.Count, value=report.skipped_records)
    metrics.add_metric(name="RecordsInvalid", unit=MetricUnit.Count, value=report.invalid_records)
    metrics.add_metric(name="DurationSeconds", unit=MetricUnit.Seconds, value=report.duration_seconds)
    metrics.add_metric(name="ExportsFailed", unit=MetricUnit.Count, value=int(report.status in {"FAILED", "TIMED_OUT"}))
    return {
        "status": report.status,
        "reason": report.reason,
        "audience_id": None if report.audience_id is None else str(report.audience_id),
        "report_bucket": runtime.services().state_bucket,
        "report_key": key,
    }
