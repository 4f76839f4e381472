"""Notifications: which finished executions notify, and that a message carries only the listed fields."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adsbridge.export.notify import SUBJECT_MAX, Detail, handle, mask, message, should_notify
from adsbridge.export.steps import Services

PII = ["jane.doe@example.com", "+1 (555) 010-7788", "Jane Doe", "4111 1111 1111 1111", "221B Baker Street"]


def detail(status: str = "FAILED", **changes: Any) -> Detail:
    return Detail.model_validate(
        {"executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:run-1", "name": "run-1",
         "status": status, "input": json.dumps({"job": {"name": "crm", "settings": {}}}), **changes}
    )  # fmt: skip


@pytest.mark.parametrize(
    ("status", "notify", "output", "expected"),
    [
        ("FAILED", "failure", {}, True),
        ("TIMED_OUT", "failure", {}, True),
        ("ABORTED", "failure", {}, True),
        ("SUCCEEDED", "failure", {"report": {"status": "SUCCEEDED"}}, False),
        ("SUCCEEDED", "always", {"report": {"status": "SUCCEEDED"}}, True),
        ("SUCCEEDED", "always", {"schedule_claim": {"claimed": False}}, False),  # AlreadyRunForThisTime
        ("SUCCEEDED", "always", {"schedule_claim": {"claimed": True}, "report": {}}, True),
        ("RUNNING", "always", {}, False),
    ],
)
def test_failures_always_notify_successes_only_when_asked(
    status: str, notify: str, output: dict[str, Any], expected: bool
) -> None:
    assert should_notify(status, notify, output) is expected


def test_the_message_names_job_status_counts_audience_and_report() -> None:
    report = {"status": "FAILED", "reason": "AdsError: 429 throttled", "total_records": 10, "uploaded_records": 7,
              "skipped_records": 3, "invalid_records": 1, "matched_records": 5, "audience_id": 123456789012345678}  # fmt: skip
    subject, body = message("crm", detail(), report, "s3://state/reports/crm/run-1.json")
    assert subject == "adsbridge export crm FAILED"
    assert body.splitlines() == [
        "Job: crm",
        "Execution: run-1",
        "Execution status: FAILED",
        "Report status: FAILED",
        "Reason: AdsError: 429 throttled",
        "Total records: 10",
        "Uploaded records: 7",
        "Skipped records: 3",
        "Invalid records: 1",
        "Matched records: 5",
        "Audience ID: 123456789012345678",
        "Report: s3://state/reports/crm/run-1.json",
    ]


def test_a_message_never_carries_data_values_even_from_a_reason_quoting_them() -> None:
    """The report should hold no PII; if a reason ever quotes an input line, the message still does not."""
    reason = (f"InputError: line 3: bad phone '{PII[1]}' for {PII[0]} name \"{PII[2]}\" card {PII[3]}"
              f" at `{PII[4]}`\nTraceback: {PII[2]}")  # fmt: skip
    report = {"status": "FAILED", "reason": reason, "total_records": 3, "rows": [{"email": PII[0]}],
              "first_line": f"{PII[0]},{PII[2]}", "names": [PII[2]]}  # fmt: skip
    subject, body = message("crm", detail(), report, "s3://state/reports/crm/run-1.json")
    for value in PII:
        assert value not in subject + body
    assert {line.split(":")[0] for line in body.splitlines()} <= {
        "Job", "Execution", "Execution status", "Report status", "Reason", "Total records", "Audience ID", "Report",
    }  # fmt: skip
    assert body.startswith("Job: crm\n") and "Reason: InputError: line 3: bad phone <masked>" in body


def test_without_a_report_the_message_has_the_events_error_and_no_counts() -> None:
    subject, body = message("crm", detail("FAILED", error="ReportFailed", cause="the report could not be written"),
                            None, None)  # fmt: skip
    assert subject == "adsbridge export crm FAILED"
    assert "Reason: ReportFailed the report could not be written" in body
    assert "Audience ID: -" in body and "Report: none written" in body and "records" not in body


def test_the_subject_fits_snss_limit() -> None:
    subject, _ = message("j" * 64, detail("TIMED_OUT"), None, None)
    assert len(subject) <= SUBJECT_MAX and subject.startswith("adsbridge export j")


def test_mask_keeps_the_error_and_drops_the_rest_of_a_traceback() -> None:
    assert mask("States.Timeout: no answer in 900 s\n  File x") == "States.Timeout: no answer in 900 s"


class FakeS3:
    """A report store: ``head_object`` answers 404 for a key it does not hold."""

    class exceptions:
        from botocore.exceptions import ClientError

    def __init__(self, reports: dict[str, dict[str, Any]]) -> None:
        self.reports = reports

    def head_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        if Key not in self.reports:
            raise self.exceptions.ClientError({"Error": {"Code": "404"}}, "HeadObject")
        return {}

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        import io

        return {"Body": io.BytesIO(json.dumps(self.reports[Key]).encode())}


class FakeSns:
    def __init__(self) -> None:
        self.published: list[dict[str, str]] = []

    def publish(self, **kwargs: str) -> None:
        self.published.append(kwargs)


def test_a_failure_is_published_once_to_every_topic() -> None:
    s3 = FakeS3({"reports/crm/run-1.json": {"status": "FAILED", "reason": "X: y", "total_records": 2}})
    sns = FakeSns()
    event = {"detail": detail().model_dump(by_alias=True)}
    outcome = handle(event, Services(s3=s3, state_bucket="state", ads=lambda *_: None), sns, ["t1", "t2"])  # type: ignore[arg-type,return-value]
    assert outcome.notified and outcome.report_key == "reports/crm/run-1.json" and not outcome.report_written
    assert [p["TopicArn"] for p in sns.published] == ["t1", "t2"]
    assert sns.published[0]["Subject"] == "adsbridge export crm FAILED"
    assert "Report: s3://state/reports/crm/run-1.json" in sns.published[0]["Message"]
