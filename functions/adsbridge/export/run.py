"""The export run service: what one export does, the same for ``adsbridge export`` and the state machine.

``job.ExportRun`` drives it in one process over the whole input; ``steps`` drives it one state-machine task
at a time over S3 chunks, keeping its state in ``checkpoint.RunStore``. Both make the target ready, send rows,
decide the status and explain a failure through these functions, so a report means the same in both.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from adsbridge.ads.audiences import AudiencesClient, JobStatus
from adsbridge.export.payloads import TaskError
from adsbridge.export.prepare import Target, prepare
from adsbridge.export.records import RecordBuilder
from adsbridge.export.registry import AudienceRegistry
from adsbridge.export.report import Counters
from adsbridge.export.source import Rows, check_columns
from adsbridge.export.upload import Pacer, Settled, upload_rows
from adsbridge.settings import ExportSettings

REASON_MAX = 500


def ready_target(
    settings: ExportSettings,
    client: AudiencesClient,
    columns: list[str] | None,
    *,
    accept_terms: bool,
    registry: AudienceRegistry | None,
    before_prepare: Callable[[], None] = lambda: None,
) -> Target:
    """The audience ready for records, once the input's header showed it can be exported at all.

    The header is checked first: input without ``externaluserid`` or a PII column would have every row skipped
    after the audience was created (``InputError``; ``None`` for JSON lines, which have no header).
    ``before_prepare`` runs between the two (``adsbridge export``: a stop requested meanwhile sends nothing).
    """
    check_columns(columns)
    before_prepare()
    return prepare(settings, client, accept_terms=accept_terms, registry=registry)


def send(
    settings: ExportSettings,
    client: AudiencesClient,
    target: Target,
    rows: Rows,
    counters: Counters,
    *,
    pacer: Pacer,
    on_batch: Callable[[Settled], None],
    **limits: int,
) -> None:
    """Rows → hashed records → Amazon in batches, counted in ``counters``; ``on_batch`` after each accepted one."""
    upload_rows(rows, RecordBuilder(settings), client, target, counters, pacer=pacer, on_batch=on_batch, **limits)


def settle(jobs: dict[str, JobStatus], *, wait: bool, finished: bool) -> tuple[str, str | None]:
    """The status (and reason) of a run whose rows were all sent: UPLOADED unless the job waits for Amazon."""
    return outcome(jobs, finished) if wait else ("UPLOADED", None)


def outcome(jobs: dict[str, JobStatus], finished: bool) -> tuple[str, str | None]:
    """The report status (and reason) once polling stopped (``finished``: every job terminal in time)."""
    if not finished:
        pending = sum(1 for job in jobs.values() if not job.terminal)
        return "TIMED_OUT", f"max_wait_time reached with {pending} job(s) still pending"
    if not jobs:  # every row skipped, or none at all: nothing failed
        return "SUCCEEDED", "no records to upload"
    failed = sum(1 for job in jobs.values() if job.state == "FAILED")
    if failed == len(jobs):
        return "FAILED", "Amazon failed every upload job"
    if failed or any(job.state == "PARTIALLYSUCCEEDED" or job.invalid for job in jobs.values()):
        return "PARTIALLY_SUCCEEDED", f"{failed} failed job(s)" if failed else "some records were invalid"
    return "SUCCEEDED", None


def task_failure_reason(error: TaskError) -> str:
    """``Error: message`` from a Catch result; a Lambda error's stack trace is dropped (noise in a report).

    A Cause that is not a Lambda error (an Athena status, an SDK message) is kept whole.
    """
    try:
        cause = json.loads(error.cause)
        message = str(cause.get("errorMessage", error.cause)) if isinstance(cause, dict) else error.cause
    except json.JSONDecodeError:
        message = error.cause
    return f"{error.error}: {message}"[:REASON_MAX] if message else error.error
