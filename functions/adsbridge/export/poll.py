"""Job status polling: ask only about jobs still PENDING, stop at terminal states or the deadline.

Amazon asks clients to stop polling a job once it is terminal, to spare its TPS (docs/amc-audiences-api.md#job-status).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from adsbridge.ads.audiences import AudiencesClient, JobStatus


def poll_once(client: AudiencesClient, job_ids: Iterable[str], known: dict[str, JobStatus]) -> dict[str, JobStatus]:
    """One round: refresh every job not yet terminal in ``known``; returns the updated mapping."""
    updated = dict(known)
    for job_id in job_ids:
        if job_id in updated and updated[job_id].terminal:
            continue
        updated[job_id] = client.job_status(job_id)
    return updated


def due_jobs(job_ids: Iterable[str], known: dict[str, JobStatus], rounds: dict[str, int], round_: int) -> list[str]:
    """The jobs round ``round_`` has still to poll (not terminal, not yet polled in it), least recently polled
    first and otherwise in upload order, so slices of a round reach every job."""
    due = [job_id for job_id in job_ids if not (job_id in known and known[job_id].terminal)]
    return sorted(
        (job_id for job_id in due if rounds.get(job_id, 0) < round_), key=lambda job_id: rounds.get(job_id, 0)
    )


def all_terminal(job_ids: Iterable[str], jobs: dict[str, JobStatus]) -> bool:
    return all(job_id in jobs and jobs[job_id].terminal for job_id in job_ids)


def poll_until_done(
    client: AudiencesClient,
    job_ids: list[str],
    *,
    max_wait_seconds: float,
    interval: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[dict[str, JobStatus], bool]:
    """Poll until every job is terminal or ``max_wait_seconds`` pass; returns (statuses, finished)."""
    deadline = clock() + max_wait_seconds
    jobs = poll_once(client, job_ids, {})
    while not all_terminal(job_ids, jobs):
        remaining = deadline - clock()
        if remaining <= 0:
            return jobs, False
        sleep(min(interval, remaining))
        jobs = poll_once(client, job_ids, jobs)
    return jobs, True
