"""The export report: Treasure Data's report fields plus Amazon's match signal, as text and as JSON.

Only counts, ids and states: never row contents.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from adsbridge.ads.audiences import JobStatus
from adsbridge.settings import ExportSettings

REPORT_PREFIX = "reports"  # a run's report is reports/<job>/<execution>.json in the state bucket
UNKNOWN = "-"  # a settings field of a report whose settings did not validate (an execution input typed by hand)


def report_key(job: str, execution: str) -> str:
    """Where ``execution`` of ``job`` writes its report in the state bucket."""
    return f"{REPORT_PREFIX}/{job}/{execution}.json"


@dataclass
class Counters:
    """Running totals of one upload; ``total_records == uploaded_records + skipped_records`` always."""

    total_records: int = 0
    uploaded_records: int = 0
    skipped_by_reason: dict[str, int] = field(default_factory=dict)
    total_batches: int = 0
    job_request_ids: list[str] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)

    @classmethod
    def restore(cls, saved: dict[str, Any]) -> Counters:
        """Counters saved with ``asdict`` (among other keys, in a chunk's progress), to count on from."""
        return cls(**{f.name: saved[f.name] for f in fields(cls)})

    @property
    def skipped_records(self) -> int:
        return sum(self.skipped_by_reason.values())

    def skip(self, reason: str) -> None:
        self.total_records += 1
        self.skipped_by_reason[reason] = self.skipped_by_reason.get(reason, 0) + 1


@dataclass
class ExportReport:
    status: str  # UPLOADED | SUCCEEDED | PARTIALLY_SUCCEEDED | TIMED_OUT | FAILED | INTERRUPTED (CLI only)
    audience_id: int | None
    action: str
    upload_mode: str
    target: str
    total_records: int
    uploaded_records: int
    skipped_records: int
    skipped_by_reason: dict[str, int]
    total_batches: int
    completed_batches: int
    invalid_records: int
    invalid_by_reason: dict[str, int]
    received_records: int
    matched_records: int
    job_request_ids: list[str]
    job_states: dict[str, str]
    started_at: str
    finished_at: str
    duration_seconds: float
    reason: str | None = None
    reused_audience: bool = False  # a CREATE job appended to the audience an earlier run of it created
    # ``adsbridge export`` only: the ``started_at`` of an earlier run that sent this input whole with these
    # settings; this run sent nothing and reports that run's counts again (``--restart`` sends it again)
    already_sent_at: str | None = None

    @classmethod
    def build(
        cls,
        *,
        status: str,
        audience_id: int | None,
        settings: ExportSettings | None,
        counters: Counters,
        jobs: dict[str, JobStatus],
        started_at: str,
        finished_at: str,
        duration_seconds: float,
        reason: str | None = None,
        reused_audience: bool = False,
        already_sent_at: str | None = None,
    ) -> ExportReport:
        """The report of a run under ``settings`` (None: they did not validate, the run failed on them)."""
        invalid_by_reason: dict[str, int] = {}
        for job in jobs.values():
            for why, count in job.invalid_reasons.items():
                invalid_by_reason[why] = invalid_by_reason.get(why, 0) + count
        return cls(
            status=status,
            audience_id=audience_id,
            action=settings.action if settings else UNKNOWN,
            upload_mode=settings.upload_mode if settings else UNKNOWN,
            target=settings.target if settings else UNKNOWN,
            total_records=counters.total_records,
            uploaded_records=counters.uploaded_records,
            skipped_records=counters.skipped_records,
            skipped_by_reason=dict(sorted(counters.skipped_by_reason.items())),
            total_batches=counters.total_batches,
            completed_batches=sum(1 for job in jobs.values() if job.terminal and job.state != "FAILED"),
            invalid_records=sum(job.invalid for job in jobs.values()),
            invalid_by_reason=invalid_by_reason,
            received_records=sum(job.received for job in jobs.values()),
            matched_records=sum(job.matched for job in jobs.values()),
            job_request_ids=list(counters.job_request_ids),
            job_states={
                job_id: jobs[job_id].state if job_id in jobs else "SUBMITTED" for job_id in counters.job_request_ids
            },
            started_at=started_at,
            finished_at=finished_at,
            duration_seconds=round(duration_seconds, 3),
            reason=reason,
            reused_audience=reused_audience,
            already_sent_at=already_sent_at,
        )

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> ExportReport:
        """The report from its JSON document (which may carry more keys, as the state machine's does)."""
        return cls(**{f.name: document[f.name] for f in fields(cls) if f.name in document})

    def to_json(self) -> dict[str, Any]:
        # audience_id is written as a JSON number (18 digits); readers must not parse it as a float.
        return asdict(self)

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")

    def render_text(self) -> str:
        """The report as Treasure Data prints it, plus skip reasons and Amazon's match counts."""
        lines = [
            "************* REPORT *************",
            f"Total records: {self.total_records}",
            f"Total batches: {self.total_batches}",
            f"Total skipped records: {self.skipped_records}",
            *(f"  skipped ({why}): {n}" for why, n in self.skipped_by_reason.items()),
            "************* UPLOAD STATUS *************",
            f"Total completed batches: {self.completed_batches}/{self.total_batches}",
            f"Total uploaded records but invalid: {self.invalid_records}",
            *(f"  invalid ({why}): {n}" for why, n in self.invalid_by_reason.items()),
            f"Records received by Amazon: {self.received_records}",
            f"Records matched to Amazon identities: {self.matched_records}"
            + (f" ({100 * self.matched_records / self.received_records:.1f}%)" if self.received_records else ""),
            "************* AUDIENCE INFO *************",
            f"Audience ID: {self.audience_id if self.audience_id is not None else '-'}",
            *([f"Reused audience: {self.audience_id} (created by an earlier run of this job)"] * self.reused_audience),
            *([f"Already sent by the run started {when}: nothing sent now"] if (when := self.already_sent_at) else []),
            f"Status: {self.status}" + (f" ({self.reason})" if self.reason else ""),
        ]
        return "\n".join(lines)
