"""PollStatus polls a bounded slice of the pending jobs per invocation, least recently polled first, saving
their states after each slice, and says ``more`` while the round has jobs left.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from adsbridge.ads.audiences import JobStatus
from adsbridge.export.chunks import Layout
from adsbridge.export.payloads import JobSpec, PollState, RunInfo
from adsbridge.export.steps import POLL_SLICE, Services, poll_run

BUCKET = "adsbridge-unit-state"
SETTINGS = json.loads((Path(__file__).resolve().parents[3] / "samples/settings.json").read_text())
JOB = JobSpec(name="crm", settings={**SETTINGS, "wait_until_finish": True, "max_wait_time": 60})
RUN = RunInfo(
    run_id="run1", audience_id="1", connection_id="c", to_dsp=False,
    layout=Layout(json_lines=False, compressed=False, header="email\n"), wait=True, started_at="2026-01-01T00:00:00",
)  # fmt: skip


class Jobs:
    """Fake Ads client: each job turns SUCCEEDED after ``polls`` polls of it."""

    def __init__(self, polls: int) -> None:
        self.polls = polls
        self.asked: list[str] = []

    def job_status(self, job_id: str) -> JobStatus:
        self.asked.append(job_id)
        state = "SUCCEEDED" if self.asked.count(job_id) >= self.polls else "PENDING"
        return JobStatus(job_id, state)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "x")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def uploaded(s3: Any, jobs: int) -> list[str]:
    """One finished chunk with ``jobs`` job ids, as UploadChunk leaves it."""
    ids = [f"job-{i:05d}" for i in range(jobs)]
    result = {"index": 0, "job_request_ids": ids, "total_records": 0, "uploaded_records": 0, "total_batches": jobs,
              "batch_sizes": [], "skipped_by_reason": {}}  # fmt: skip
    s3.put_object(Bucket=BUCKET, Key="checkpoints/crm/run1/chunks/000000.json", Body=json.dumps(result).encode())
    return ids


def saved_states(s3: Any) -> dict[str, str]:
    body = s3.get_object(Bucket=BUCKET, Key="checkpoints/crm/run1/jobs.json")["Body"].read()
    return {job_id: status["state"] for job_id, status in json.loads(body).items()}


def test_a_large_export_is_polled_in_slices_least_recently_polled_first(s3: Any) -> None:
    ids = uploaded(s3, 2 * POLL_SLICE + 100)
    jobs = Jobs(polls=2)
    services = Services(s3=s3, state_bucket=BUCKET, ads=lambda *_: jobs, clock=lambda: 1000.0)

    first = poll_run(JOB, RUN, PollState(), services)
    assert jobs.asked == ids[:POLL_SLICE] and (first.more, first.done, first.pending) == (True, False, len(ids))
    assert set(saved_states(s3)) == set(ids[:POLL_SLICE])  # saved after the slice, not after the whole round
    second = poll_run(JOB, RUN, first, services)
    third = poll_run(JOB, RUN, second, services)
    assert jobs.asked == ids and (second.more, third.more) == (True, False)  # the round is complete: wait now
    assert set(saved_states(s3).values()) == {"PENDING"} and not third.done

    rounds = [third]
    while not rounds[-1].done:
        rounds.append(poll_run(JOB, RUN, rounds[-1], services))
    assert jobs.asked[len(ids) :] == ids  # the next round began with the jobs polled longest ago
    assert [state.more for state in rounds[1:]] == [True, True, False] and rounds[-1].pending == 0
    assert set(saved_states(s3).values()) == {"SUCCEEDED"}


def test_a_slice_stops_short_of_the_lambda_timeout(s3: Any) -> None:
    ids = uploaded(s3, 10)
    jobs = Jobs(polls=1)
    services = Services(s3=s3, state_bucket=BUCKET, ads=lambda *_: jobs, clock=lambda: 1000.0)
    left = iter([60.0, 60.0, 5.0])
    state = poll_run(JOB, RUN, PollState(), services, remaining=lambda: next(left, 5.0))
    assert jobs.asked == ids[:3] and state.more and not state.done
    state = poll_run(JOB, RUN, state, services)
    assert jobs.asked == ids and state.done and not state.more
