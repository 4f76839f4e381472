"""Polling stops at terminal states and deadlines; the report adds up and carries no PII."""

from __future__ import annotations

from typing import Any, cast

from adsbridge.ads.audiences import AudiencesClient, JobStatus
from adsbridge.export.poll import poll_until_done
from adsbridge.export.report import Counters, ExportReport
from adsbridge.export.run import outcome
from adsbridge.settings import parse_settings


class FakeJobs:
    """A fake client whose jobs turn terminal after a given number of polls."""

    def __init__(self, polls_until_done: dict[str, int], final: str = "SUCCEEDED") -> None:
        self.remaining = dict(polls_until_done)
        self.final = final
        self.asked: list[str] = []

    def job_status(self, job_id: str) -> JobStatus:
        self.asked.append(job_id)
        self.remaining[job_id] -= 1
        state = self.final if self.remaining[job_id] <= 0 else "PENDING"
        return JobStatus(job_id, state, received=10, matched=7)


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_terminal_jobs_are_not_polled_again() -> None:
    fake, t = FakeJobs({"a": 1, "b": 3}), FakeTime()
    jobs, finished = poll_until_done(
        cast(AudiencesClient, fake), ["a", "b"], max_wait_seconds=600, interval=30, clock=t.clock, sleep=t.sleep
    )
    assert finished and {j.state for j in jobs.values()} == {"SUCCEEDED"}
    assert fake.asked == ["a", "b", "b", "b"]
    assert t.now == 60


def test_deadline_is_respected() -> None:
    fake, t = FakeJobs({"a": 1000}), FakeTime()
    jobs, finished = poll_until_done(
        cast(AudiencesClient, fake), ["a"], max_wait_seconds=100, interval=30, clock=t.clock, sleep=t.sleep
    )
    assert not finished and jobs["a"].state == "PENDING"
    assert t.now == 100  # the last sleep is shortened to the deadline


def test_outcomes() -> None:
    ok = JobStatus("a", "SUCCEEDED")
    assert outcome({"a": ok}, True) == ("SUCCEEDED", None)
    assert outcome({"a": ok, "b": JobStatus("b", "FAILED")}, True)[0] == "PARTIALLY_SUCCEEDED"
    assert outcome({"a": JobStatus("a", "SUCCEEDED", invalid=2)}, True)[0] == "PARTIALLY_SUCCEEDED"
    assert outcome({"a": JobStatus("a", "FAILED")}, True)[0] == "FAILED"
    assert outcome({}, True) == ("SUCCEEDED", "no records to upload")  # every row skipped: no job failed
    assert outcome({"a": JobStatus("a", "PENDING")}, False) == (
        "TIMED_OUT",
        "max_wait_time reached with 1 job(s) still pending",
    )


def report(**overrides: Any) -> ExportReport:
    counters = Counters(total_records=10, uploaded_records=10, total_batches=2, job_request_ids=["j1", "j2"])
    counters.skip("no_usable_identifier")
    counters.skip("no_usable_identifier")
    jobs = {
        "j1": JobStatus("j1", "SUCCEEDED", received=6, matched=4, invalid=1, invalid_reasons={"bad hash": 1}),
        "j2": JobStatus("j2", "PENDING", received=0),
    }
    return ExportReport.build(
        status="UPLOADED", audience_id=361054992504331123,
        settings=parse_settings({"amc_instance_id": "amc1", "action": "UPDATE", "audience_id": 1, "country_code": "US"}),
        counters=counters, jobs=jobs, started_at="s", finished_at="f", duration_seconds=1.23456, **overrides,
    )  # fmt: skip


def test_report_fields() -> None:
    r = report().to_json()
    assert r["total_records"] == 12 == r["uploaded_records"] + r["skipped_records"]
    assert r["skipped_by_reason"] == {"no_usable_identifier": 2}
    assert r["completed_batches"] == 1 and r["total_batches"] == 2
    assert r["invalid_records"] == 1 and r["invalid_by_reason"] == {"bad hash": 1}
    assert r["job_states"] == {"j1": "SUCCEEDED", "j2": "PENDING"}
    assert (r["received_records"], r["matched_records"]) == (6, 4)
    required = {"audience_id", "total_records", "total_batches", "skipped_records", "completed_batches",
                "invalid_records", "job_request_ids", "job_states", "status"}  # fmt: skip
    assert required <= r.keys()


def test_report_text_is_treasure_data_shaped() -> None:
    text = report().render_text()
    for line in ("Total records: 12", "Total batches: 2", "Total skipped records: 2", "Total completed batches: 1/2",
                 "Total uploaded records but invalid: 1", "Audience ID: 361054992504331123"):  # fmt: skip
        assert line in text.splitlines()
    assert "Records matched to Amazon identities: 4 (66.7%)" in text


def test_the_report_restates_the_settings_model_and_says_nothing_of_settings_that_did_not_validate() -> None:
    r = report().to_json()
    assert (r["action"], r["upload_mode"], r["target"]) == ("UPDATE", "APPEND", "AMC")
    unknown = ExportReport.build(
        status="FAILED", audience_id=None, settings=None, counters=Counters(), jobs={},
        started_at="s", finished_at="f", duration_seconds=0,
    ).to_json()  # fmt: skip
    assert (unknown["action"], unknown["upload_mode"], unknown["target"]) == ("-", "-", "-")


def test_a_run_that_sent_nothing_because_an_earlier_one_sent_everything_says_so() -> None:
    assert report().to_json()["already_sent_at"] is None
    assert not any(line.startswith("Already sent") for line in report().render_text().splitlines())
    again = report(already_sent_at="2026-12-06T21:00:00+00:00")
    assert again.to_json()["already_sent_at"] == "2026-12-06T21:00:00+00:00"
    assert "Already sent by the run started 2026-12-06T21:00:00+00:00: nothing sent now" in again.render_text()
    assert ExportReport.from_json(again.to_json()) == again
