"""One message per finished export execution, from Step Functions' status-change event (README "Notifications").

A failed, timed-out or aborted execution always notifies; a succeeded one when its job says ``notify:
"always"``, never when it only found its scheduled instant already run (ASL ``AlreadyRunForThisTime``). An
execution stopped by hand or by its timeout ran no FailureReport, so its report is written here.

The message carries the report's status, counts, ids and location only. Its reason is an error message, which
may quote what failed to parse: quoted text, e-mail-like and long-number-like values are masked, so no data
value reaches a mailbox (the report in S3 keeps the reason whole).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from adsbridge.ads.audiences import AudiencesClient
from adsbridge.export.checkpoint import CHECKPOINT_PREFIX, RunStore
from adsbridge.export.payloads import JobSpec, Prepared, SourceObject, TaskError
from adsbridge.export.report import report_key
from adsbridge.export.run_claim import CLAIM, report_exists
from adsbridge.export.steps import Services, report_run
from adsbridge.settings import ExportSettings

FINISHED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
UNREPORTED = ("TIMED_OUT", "ABORTED")  # ended outside the state machine's Catch: no FailureReport ran
SUBJECT_MAX = 100  # SNS's limit for an e-mail subject
REASON_MAX = 300
COUNTS = ("total_records", "uploaded_records", "skipped_records", "invalid_records", "matched_records")
MASK = "<masked>"
_DATA_LIKE = [
    re.compile(r"(['\"`]).*?\1"),  # quoted values (a parse error quoting its input)
    re.compile(r"[^\s@]+@[^\s@]+"),  # e-mail addresses
    re.compile(r"\+?\d[\d ().-]{5,}\d"),  # phone numbers, long ids
]


class Detail(BaseModel):
    """The ``detail`` of a "Step Functions Execution Status Change" event (the fields used here)."""

    model_config = ConfigDict(extra="ignore")

    execution_arn: str = Field(alias="executionArn")
    name: str
    status: str
    input: str | None = None
    output: str | None = None
    start_date: int | None = Field(default=None, alias="startDate")  # epoch milliseconds
    error: str | None = None
    cause: str | None = None


class Outcome(BaseModel):
    notified: bool
    subject: str | None = None
    report_key: str | None = None
    report_written: bool = False


def handle(event: dict[str, Any], services: Services, sns: Any, topics: list[str]) -> Outcome:
    """Report (when an ended execution left none), decide and publish to every topic."""
    detail = Detail.model_validate(event["detail"])
    if detail.status not in FINISHED:
        return Outcome(notified=False)
    execution_input = _json(detail.input)
    job = JobSpec.model_validate(execution_input["job"])
    key = report_key(job.name, detail.name)
    report = _load(services, job, detail.name, key)
    written = False
    if report is None and detail.status in UNREPORTED:
        report = _write_failure_report(job, execution_input, detail, services)
        written = True
    if not should_notify(detail.status, job.notify, _json(detail.output)):
        return Outcome(notified=False, report_key=key if report else None, report_written=written)
    subject, body = message(job.name, detail, report, f"s3://{services.state_bucket}/{key}" if report else None)
    for topic in topics:
        sns.publish(TopicArn=topic, Subject=subject, Message=body)
    return Outcome(notified=True, subject=subject, report_key=key if report else None, report_written=written)


def should_notify(status: str, notify: str, output: dict[str, Any]) -> bool:
    """Failures always; a success if the job asks, unless it was a duplicate scheduled instant (nothing ran)."""
    if status != "SUCCEEDED":
        return status in FINISHED
    duplicate = output.get("schedule_claim", {}).get("claimed") is False
    return notify == "always" and not duplicate


def message(job: str, detail: Detail, report: dict[str, Any] | None, location: str | None) -> tuple[str, str]:
    """(subject, body): only the job, statuses, masked reason, counts, audience id and the report's location."""
    subject = f"adsbridge export {job} {detail.status}"[:SUBJECT_MAX]
    report = report or {}
    reason = report.get("reason") or " ".join(part for part in (detail.error, detail.cause) if part)
    lines = [
        f"Job: {job}",
        f"Execution: {detail.name}",
        f"Execution status: {detail.status}",
        *([f"Report status: {report['status']}"] if "status" in report else []),
        *([f"Reason: {mask(reason)}"] if reason else []),
        *(f"{name.replace('_', ' ').capitalize()}: {int(report[name])}" for name in COUNTS if name in report),
        f"Audience ID: {report.get('audience_id') if report.get('audience_id') is not None else '-'}",
        f"Report: {location or 'none written'}",
    ]
    return subject, "\n".join(lines) + "\n"


def mask(reason: str) -> str:
    """The reason's first line, with data-like values masked, at most ``REASON_MAX`` characters."""
    text = reason.splitlines()[0] if reason else ""
    for pattern in _DATA_LIKE:
        text = pattern.sub(MASK, text)
    return text[:REASON_MAX]


def _write_failure_report(
    job: JobSpec, execution_input: dict[str, Any], detail: Detail, services: Services
) -> dict[str, Any]:
    """The FailureReport the state machine could not run: with the run's checkpoints when one was prepared."""
    source = execution_input.get("source")
    error = TaskError(Error=detail.status, Cause=detail.cause or detail.error or f"execution {detail.status}")
    _, document, _ = report_run(
        job, SourceObject.model_validate(source) if isinstance(source, dict) else None, detail.name, services,
        prepared=_prepared(services, job, detail), error=error,
    )  # fmt: skip
    return document


def _prepared(services: Services, job: JobSpec, detail: Detail) -> Prepared | None:
    """The run this execution claimed (``claim.json`` names it), looking only at claims made since it started."""
    since = (detail.start_date or 0) / 1000
    paginator = services.s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=services.state_bucket, Prefix=f"{CHECKPOINT_PREFIX}/{job.name}/"):
        for item in page.get("Contents", []):
            parts = item["Key"].split("/")
            if len(parts) != 4 or parts[3] != CLAIM or _epoch(item["LastModified"]) < since - 1:
                continue
            store = RunStore(services.s3, services.state_bucket, job.name, parts[2])
            if (store.load(CLAIM) or {}).get("execution") == detail.name:
                prepared = store.load("prepared.json")
                return Prepared.model_validate(prepared) if prepared else None
    return None


def _load(services: Services, job: JobSpec, execution: str, key: str) -> dict[str, Any] | None:
    if not report_exists(services, job, execution):
        return None
    body = services.s3.get_object(Bucket=services.state_bucket, Key=key)["Body"].read()
    document: dict[str, Any] = json.loads(body)
    return document


def _epoch(value: datetime | str) -> float:
    return (value if isinstance(value, datetime) else datetime.fromisoformat(value)).timestamp()


def _json(text: str | None) -> dict[str, Any]:
    value = json.loads(text) if text else {}
    return value if isinstance(value, dict) else {}


def no_ads(job: JobSpec, settings: ExportSettings) -> AudiencesClient:
    """Notify never calls Amazon Ads: ``Services.ads`` for ``report_run``, which does not use it."""
    raise RuntimeError("the Notify function does not call Amazon Ads")
