"""The export run service (``export.run``) as four resumable steps, one per state-machine task: prepare, upload
a chunk, poll, report.

Each step takes the small state descriptors (``adsbridge.export.payloads``) plus injected services, keeps its
results in S3 through ``RunStore`` and returns small JSON. ``adsbridge export`` (``export.job``) drives the same
service in one process.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from adsbridge.ads.audiences import AudiencesClient, JobStatus
from adsbridge.export.checkpoint import PREPARED, RunState, RunStore, run_id
from adsbridge.export.chunks import Chunk, open_chunk, plan_chunks, s3_range_reader
from adsbridge.export.payloads import JobSpec, PollState, Prepared, RunInfo, SourceObject, TaskError
from adsbridge.export.poll import all_terminal, due_jobs
from adsbridge.export.registry import S3Registry
from adsbridge.export.report import Counters, ExportReport, report_key
from adsbridge.export.run import (
    progress_document,
    ready_target,
    result_document,
    resume_point,
    run_info,
    send,
    settle,
    target_of,
    task_failure_reason,
)
from adsbridge.export.run_claim import claim_run
from adsbridge.export.source import header_columns, read_rows
from adsbridge.export.upload import RECORDS_PER_HOUR_LIMIT, Pacer, Settled
from adsbridge.settings import ExportSettings

PACING_WINDOW_SECONDS = 60.0
POLL_SLICE = 300  # job GETs per PollStatus invocation at most: well inside its 2 minutes
POLL_RESERVE_SECONDS = 20.0  # a slice stops this short of the Lambda timeout, to save the states it got


@dataclass
class Services:
    """What the steps need from outside: S3 (input, checkpoints, reports) and an Ads client per job."""

    s3: Any
    state_bucket: str
    ads: Callable[[JobSpec, ExportSettings], AudiencesClient]
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    pacer_budget: float = field(default=0.9)  # share of Amazon's hourly limit all chunks together may use
    executions: Any = None  # Step Functions: whether a run's owner still runs (None: only its report tells)


def prepare_run(
    job: JobSpec, source: SourceObject, execution: str, services: Services, *, execution_arn: str | None = None
) -> Prepared:
    """Validate settings, plan chunks and make the audience ready; a re-run (same input, same settings) reuses it.

    The run is claimed for ``execution`` before anything else (``claim_run``), so two executions of one run
    never both create an audience or upload the same chunks. The run is one version of the input, the ETag its
    HEAD gave: planning reads that version only, and so does every chunk (``RunInfo.etag``); the object
    replaced meanwhile (a new file dropped under the same key) fails the step with ``InputReplaced``.
    """
    settings = job.settings_or_raise()
    head = services.s3.head_object(Bucket=source.bucket, Key=source.key)
    etag = str(head["ETag"])  # the version the run is named after: planned, then read by every chunk
    run = run_id(source.bucket, source.key, etag, settings.wire())
    store = _store(services, job, run)
    claim_run(store, job, run, execution, services, execution_arn)
    done = store.load(PREPARED)
    if done is not None:  # prepared before RunInfo carried the ETag: the run's name is that same version
        prepared = Prepared.model_validate(done)
        return (
            prepared
            if prepared.run.etag
            else prepared.model_copy(update={"run": prepared.run.model_copy(update={"etag": etag})})
        )
    plan = plan_chunks(
        source.key, head["ContentLength"], s3_range_reader(services.s3, source.bucket, source.key, etag),
        chunk_bytes=job.chunk_bytes,
    )  # fmt: skip
    columns = None if plan.layout.json_lines else header_columns(plan.layout.header)  # InputError: not retried
    registry = S3Registry(services.s3, services.state_bucket)  # a CREATE job's later runs reuse its audience
    target = ready_target(
        settings, services.ads(job, settings), columns, accept_terms=job.accept_terms, registry=registry
    )
    prepared = Prepared(
        run=run_info(run, target, plan.layout, settings, _iso(services.clock()), etag=etag),
        chunks=plan.chunks,
    )
    store.save(PREPARED, prepared.model_dump(mode="json"))
    return prepared


def chunk_pacer(concurrency: int, chunks: int, services: Services) -> Pacer:
    """This invocation's share of the per-connection limit, enforced per minute.

    Shared by the chunks that can run at once: the Map's MaxConcurrency, or fewer when fewer chunks are
    planned (a gzip file is one chunk and gets the whole budget). Per minute, not per hour: a chunk's Lambda
    knows nothing of the chunks that ran before it in the same slot, so each must keep a steady rate rather
    than spend an hour's budget in a burst.
    """
    per_minute = RECORDS_PER_HOUR_LIMIT * services.pacer_budget / max(min(concurrency, chunks), 1) / 60
    return Pacer(max(int(per_minute), 1), window=PACING_WINDOW_SECONDS, sleep=services.sleep)


def upload_chunk(
    job: JobSpec, source: SourceObject, run: RunInfo, chunk: Chunk, concurrency: int, services: Services
) -> dict[str, Any]:
    """Upload one chunk unless a checkpoint says it is done, resuming after its last accepted batch.

    After each batch Amazon accepted, the chunk's progress (the input offset past that batch's rows and the
    counters up to there) is saved; a retried or re-run invocation reads on from that offset, so the chunk's
    result equals an uninterrupted run's. At-least-once at one batch: a batch accepted but not yet
    checkpointed (the Lambda died between the POST's answer and the PUT, or during the POST) is sent again.
    """
    store = _store(services, job, run.run_id)
    done = store.chunk(chunk.index)
    if done is not None:
        return _chunk_summary(done, resumed=True)
    settings = job.settings_or_raise()
    offset, counters = resume_point(store.progress(chunk.index))
    target = target_of(run)
    planned = len(Prepared.model_validate(store.load(PREPARED)).chunks)  # the Map item does not carry it

    def checkpoint(settled: Settled) -> None:
        store.save_progress(chunk.index, progress_document(chunk.index, settled))

    with open_chunk(services.s3, source.bucket, source.key, run.layout, chunk, offset, etag=run.etag) as stream:
        send(
            settings,
            services.ads(job, settings),
            target,
            read_rows(stream, json_lines=run.layout.json_lines, start=offset),
            counters,
            pacer=chunk_pacer(concurrency, planned, services),
            on_batch=checkpoint,
        )
    result = result_document(chunk.index, counters)
    store.save_chunk(chunk.index, result)
    return _chunk_summary(result, resumed=False)


def poll_run(
    job: JobSpec,
    run: RunInfo,
    poll: PollState,
    services: Services,
    *,
    remaining: Callable[[], float] = lambda: math.inf,
) -> PollState:
    """Poll one slice of the round's pending jobs; sets the deadline from ``max_wait_time`` on the first call.

    One GET per job: a 10M-row file has ~1,700 jobs, more than PollStatus's 2 minutes allow. So an invocation
    polls at most ``POLL_SLICE`` jobs and stops ``POLL_RESERVE_SECONDS`` short of its timeout (``remaining``),
    jobs polled longest ago first, and saves their states even when a GET fails. A round polls every pending
    job once: ``more`` says it has jobs left, and the state machine calls again without its poll interval.
    """
    settings = job.settings_or_raise()
    store = _store(services, job, run.run_id)
    now = services.clock()
    deadline = poll.deadline or now + (settings.max_wait_time or 0) * 60
    round_ = poll.round if poll.more else poll.round + 1
    job_ids = [job_id for result in store.chunks() for job_id in result["job_request_ids"]]
    jobs = {job_id: JobStatus(**status) for job_id, status in (store.load("jobs.json") or {}).items()}
    rounds: dict[str, int] = store.load("polled.json") or {}  # job id -> the last round that polled it
    due = due_jobs(job_ids, jobs, rounds, round_)
    client = services.ads(job, settings)
    polled = 0
    try:
        for job_id in due[:POLL_SLICE]:
            jobs[job_id], rounds[job_id] = client.job_status(job_id), round_
            polled += 1
            if remaining() < POLL_RESERVE_SECONDS:
                break
    finally:
        store.save("jobs.json", {job_id: asdict(status) for job_id, status in jobs.items()})
        store.save("polled.json", rounds)
    done = all_terminal(job_ids, jobs)
    pending = sum(1 for job_id in job_ids if job_id not in jobs or not jobs[job_id].terminal)
    return PollState(
        deadline=deadline, done=done, timed_out=not done and now >= deadline, pending=pending,
        more=not done and polled < len(due), round=round_,
    )  # fmt: skip


def report_run(
    job: JobSpec,
    source: SourceObject | None,
    execution: str,
    services: Services,
    *,
    prepared: Prepared | None = None,
    poll: PollState | None = None,
    error: TaskError | None = None,
) -> tuple[ExportReport, dict[str, Any], str]:
    """Aggregate the checkpoints into the report, write it to S3; returns (report, document, key).

    With ``error`` (the Catch path) the status is FAILED and the reason is the error's type and message. A chunk
    that failed midway has no result, only progress: its counters and job ids count too, so a failure report
    says what did reach Amazon.
    """
    run = prepared.run if prepared else None
    store = _store(services, job, run.run_id) if run else None
    results = store.chunks() if store else []
    counters = _merge(results + _unfinished_progress(store, prepared, results))
    jobs = {job_id: JobStatus(**s) for job_id, s in ((store.load("jobs.json") if store else None) or {}).items()}
    reason: str | None
    if error is not None:
        status, reason = "FAILED", task_failure_reason(error)
    else:
        status, reason = settle(jobs, wait=run is not None and run.wait, finished=not (poll and poll.timed_out))
    now = services.clock()
    started = datetime.fromisoformat(run.started_at).timestamp() if run else now
    settings = job.valid_settings
    audience_id = int(run.audience_id) if run else settings.audience_id if settings else None
    report = ExportReport.build(
        status=status,
        audience_id=audience_id,
        settings=settings,
        counters=counters,
        jobs=jobs,
        started_at=run.started_at if run else _iso(now),
        finished_at=_iso(now),
        duration_seconds=now - started,
        reason=reason,
        reused_audience=run.reused_audience if run else False,
    )
    document = {
        **report.to_json(),
        "job": job.name,
        "execution": execution,
        "source": source.model_dump() if source else None,
        "run_id": run.run_id if run else None,
        "chunks_planned": len(prepared.chunks) if prepared else 0,
        "chunks": [_chunk_summary(result, resumed=False) for result in results],
    }
    key = report_key(job.name, execution)
    services.s3.put_object(
        Bucket=services.state_bucket, Key=key, Body=json.dumps(document, indent=2).encode(),
        ContentType="application/json",
    )  # fmt: skip
    return report, document, key


def _store(services: Services, job: JobSpec, run: str) -> RunStore:
    return RunStore(services.s3, services.state_bucket, job.name, run)


def _chunk_summary(result: dict[str, Any], *, resumed: bool) -> dict[str, Any]:
    return {
        "index": result["index"],
        "uploaded_records": result["uploaded_records"],
        "skipped_records": sum(result["skipped_by_reason"].values()),
        "total_batches": result["total_batches"],
        "resumed": resumed,
    }


def _unfinished_progress(
    store: RunState | None, prepared: Prepared | None, results: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The saved progress of every planned chunk without a result (accepted batches of a chunk that failed)."""
    if store is None or prepared is None:
        return []
    finished = {int(result["index"]) for result in results}
    found = (store.progress(chunk.index) for chunk in prepared.chunks if chunk.index not in finished)
    return [progress for progress in found if progress is not None]


def _merge(results: list[dict[str, Any]]) -> Counters:
    total = Counters()
    for result in results:
        total.total_records += result["total_records"]
        total.uploaded_records += result["uploaded_records"]
        total.total_batches += result["total_batches"]
        total.job_request_ids.extend(result["job_request_ids"])
        total.batch_sizes.extend(result["batch_sizes"])
        for why, count in result["skipped_by_reason"].items():
            total.skipped_by_reason[why] = total.skipped_by_reason.get(why, 0) + count
    return total


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")
