"""One whole export job, synchronously: prepare → upload → (wait) → report.

``adsbridge export`` runs this; the Step Functions Lambdas run the same steps (prepare, upload_rows,
poll_once) one state at a time.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from adsbridge.ads.audiences import AudiencesClient, JobStatus
from adsbridge.ads.errors import AdsError
from adsbridge.export.poll import poll_until_done
from adsbridge.export.prepare import PrepareError, prepare
from adsbridge.export.records import RecordBuilder
from adsbridge.export.report import Counters, ExportReport
from adsbridge.export.source import check_columns, is_json_lines, open_input, read_rows
from adsbridge.export.upload import Pacer, Settled, upload_rows
from adsbridge.settings import ExportSettings


@dataclass
class RunOptions:
    poll_interval: float = 30.0
    accept_terms: bool = False
    s3_client: Any = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    on_batch: Callable[[Settled], None] | None = None
    pacer: Pacer | None = None
    upload_kwargs: dict[str, int] = field(default_factory=dict)


def run_export(
    settings: ExportSettings, source: str, client: AudiencesClient, options: RunOptions | None = None
) -> ExportReport:
    """Run the job; failures after the start still produce a report (status FAILED, with a reason)."""
    options = options or RunOptions()
    started, t0 = _now(), options.clock()
    counters = Counters()
    jobs: dict[str, JobStatus] = {}
    audience_id: int | None = settings.audience_id
    status, reason = "UPLOADED", None
    try:
        # open the input first: a missing file must fail before an audience is created
        # and so must input that cannot be exported at all (a header without the columns needed)
        with open_input(source, s3_client=options.s3_client) as stream:
            rows = read_rows(stream, json_lines=is_json_lines(source))
            check_columns(rows.columns)
            target = prepare(settings, client, accept_terms=options.accept_terms)
            audience_id = target.audience_id
            upload_rows(
                rows,
                RecordBuilder(settings),
                client,
                target,
                counters,
                pacer=options.pacer,
                on_batch=options.on_batch,
                **options.upload_kwargs,
            )
        if settings.wait_until_finish:  # no jobs: nothing to poll, and outcome() says so
            assert settings.max_wait_time is not None
            jobs, finished = poll_until_done(
                client,
                counters.job_request_ids,
                max_wait_seconds=settings.max_wait_time * 60,
                interval=options.poll_interval,
                clock=options.clock,
                sleep=options.sleep,
            )
            status, reason = outcome(jobs, finished)
    except (AdsError, PrepareError, OSError, ValueError, csv.Error) as exc:  # InputError is a ValueError
        status, reason = "FAILED", str(exc)
    return ExportReport.build(
        status=status,
        audience_id=audience_id,
        settings_summary={"action": settings.action, "upload_mode": settings.upload_mode, "target": settings.target},
        counters=counters,
        jobs=jobs,
        started_at=started,
        finished_at=_now(),
        duration_seconds=options.clock() - t0,
        reason=reason,
    )


def outcome(jobs: dict[str, JobStatus], finished: bool) -> tuple[str, str | None]:
    """The report status (and reason) once polling stopped: shared by ``adsbridge export`` and the Report step."""
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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
