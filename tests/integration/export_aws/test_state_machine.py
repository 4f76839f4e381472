"""The real ASL file executed by moto, each task answered by the real handler against moto S3 and the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.integration.export_aws.conftest import STATE_BUCKET, ExportMachine

from adsbridge.export import steps
from adsbridge.export.handlers import runtime

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = (ROOT / "samples/customers.csv").read_bytes()
SKIPS = {"invalid_country_code": 1, "invalid_external_user_id": 1, "missing_external_user_id": 1,
         "no_usable_identifier": 2, "uk_eea_without_consent": 3}  # fmt: skip


def settings(**changes: Any) -> dict[str, Any]:
    data = json.loads((ROOT / "samples/settings.json").read_text())
    data.update(wait_until_finish=True, max_wait_time=1)
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_small_file_end_to_end_in_chunks(export_machine: ExportMachine) -> None:
    export_machine.put_input("incoming/crm/customers.csv", SAMPLE)
    status, report = export_machine.run("incoming/crm/customers.csv", settings(), chunk_bytes=700)
    assert status == "SUCCEEDED"
    assert report["status"] == "SUCCEEDED", report["reason"]
    assert report["chunks_planned"] == len(report["chunks"]) >= 3
    assert report["total_records"] == 26 == report["uploaded_records"] + report["skipped_records"]
    assert report["skipped_by_reason"] == SKIPS
    assert report["total_batches"] == report["completed_batches"] == export_machine.records_posts()
    assert report["total_batches"] == sum(chunk["total_batches"] for chunk in report["chunks"])
    assert set(report["job_states"].values()) == {"SUCCEEDED"}
    members = export_machine.emulator.audience_members(report["audience_id"])
    assert len(members) == report["uploaded_records"] == report["received_records"]
    assert "example.com" not in json.dumps(report)
    assert export_machine.invocations.count("PollStatus") >= 1


def test_no_wait_skips_polling_and_reports_uploaded(export_machine: ExportMachine) -> None:
    export_machine.put_input("incoming/crm/c.csv", SAMPLE)
    status, report = export_machine.run("incoming/crm/c.csv", settings(wait_until_finish=False, max_wait_time=None))
    assert (status, report["status"]) == ("SUCCEEDED", "UPLOADED")
    assert report["uploaded_records"] == 18
    assert export_machine.invocations.count("PollStatus") == 0


def test_bad_settings_end_in_a_failure_report(export_machine: ExportMachine) -> None:
    export_machine.put_input("incoming/crm/c.csv", SAMPLE)
    status, report = export_machine.run("incoming/crm/c.csv", settings(country_code=None, time_to_live="1"))
    assert status == "FAILED"
    assert report["status"] == "FAILED"
    assert report["reason"].startswith("SettingsError:")
    assert "country_code: required" in report["reason"] and "time_to_live" in report["reason"]
    assert report["total_records"] == 0 and report["audience_id"] is None
    assert export_machine.records_posts() == 0


def test_server_error_storm_during_upload_ends_in_a_failure_report(export_machine: ExportMachine) -> None:
    export_machine.put_input("incoming/crm/c.csv", SAMPLE)
    export_machine.emulator.faults.fail_next(50, 503, path_prefix="/amc/audiences/records")
    status, report = export_machine.run("incoming/crm/c.csv", settings())
    assert status == "FAILED"
    assert report["status"] == "FAILED"
    # told as the Ads error the Lambda's AdsRetryable wraps: as adsbridge export tells it
    assert report["reason"].startswith("ApiError: POST /amc/audiences/records -> HTTP 503")
    assert report["audience_id"] is not None  # prepared before the storm: the report says which audience
    assert export_machine.invocations.count("UploadChunk") == 4  # the task was retried 3 times before giving up


def test_a_short_server_error_storm_is_outlasted_by_the_task_retry(export_machine: ExportMachine) -> None:
    export_machine.put_input("incoming/crm/c.csv", SAMPLE)
    export_machine.emulator.faults.fail_next(3, 503, path_prefix="/amc/audiences/records")  # > the session's 2 tries
    status, report = export_machine.run("incoming/crm/c.csv", settings())
    assert (status, report["status"]) == ("SUCCEEDED", "SUCCEEDED"), report["reason"]
    assert export_machine.invocations.count("UploadChunk") == 2 and report["uploaded_records"] == 18


def test_a_non_retryable_ads_error_is_not_retried(export_machine: ExportMachine) -> None:
    export_machine.put_input("incoming/crm/c.csv", SAMPLE)
    export_machine.emulator.revoke_refresh_token()
    status, report = export_machine.run("incoming/crm/c.csv", settings())
    assert (status, report["status"]) == ("FAILED", "FAILED")
    assert report["reason"].startswith("AuthError:") and "invalid_grant" in report["reason"]
    assert export_machine.invocations.count("Prepare") == 1


@pytest.mark.parametrize("machine_config", [{"max_concurrency": 1}])
def test_rerun_after_a_crash_between_chunks_uploads_nothing_twice(export_machine: ExportMachine) -> None:
    export_machine.put_input("incoming/crm/c.csv", SAMPLE)
    export_machine.invocations.crash.append(("UploadChunk", lambda event: event["chunk"]["index"] == 1))
    status, first = export_machine.run("incoming/crm/c.csv", settings(), chunk_bytes=700)
    assert status == "FAILED" and first["status"] == "FAILED"
    assert first["reason"] == "unexpected RuntimeError (a bug in adsbridge: please report it)"  # not its message
    assert [chunk["index"] for chunk in first["chunks"]] == [0]
    assert export_machine.records_posts() == 1

    status, second = export_machine.run("incoming/crm/c.csv", settings(), chunk_bytes=700)
    assert status == "SUCCEEDED", second["reason"]
    assert second["run_id"] == first["run_id"] and second["audience_id"] == first["audience_id"]
    assert export_machine.records_posts() == second["total_batches"]  # every batch sent exactly once overall
    assert second["total_records"] == 26 and second["uploaded_records"] == 18
    log = export_machine.emulator.request_log()
    assert (
        sum(1 for r in log if r.method == "POST" and r.path == "/amc/audiences/metadata") == 1
    )  # the re-run reused the audience the first run created
    assert len(export_machine.emulator.audience_members(second["audience_id"])) == 18


class StormAfter:
    """``Services.ads`` with its clients' POSTs counted: once ``batches`` were accepted, the emulator answers
    the next records POSTs 503 often enough to exhaust the session's two tries, so the task fails retryably.
    """

    def __init__(self, clients: Any, emulator: Any, batches: int) -> None:
        self._clients, self._emulator, self._left = clients, emulator, batches
        self._client: Any = None

    def __call__(self, job: Any, settings: Any) -> StormAfter:
        self._client = self._clients(job, settings)
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def upload_records(self, *args: Any) -> str:
        job_id: str = self._client.upload_records(*args)
        self._left -= 1
        if self._left == 0:
            self._emulator.faults.fail_next(2, 503, path_prefix="/amc/audiences/records")
        return job_id


def test_a_retried_upload_chunk_resumes_after_the_batches_amazon_accepted(export_machine: ExportMachine) -> None:
    rows = 14_500  # one chunk, three batches of at most 6,000 records; every 10th row has no identifier
    body = "externalUserId,email\n" + "".join(
        f"u{i},\n" if i % 10 == 9 else f"u{i},user{i}@example.com\n" for i in range(rows)
    )
    export_machine.put_input("incoming/crm/big.csv", body.encode())
    services = runtime.services()
    services.ads = StormAfter(services.ads, export_machine.emulator, batches=1)

    status, report = export_machine.run("incoming/crm/big.csv", settings())
    assert (status, report["status"]) == ("SUCCEEDED", "SUCCEEDED"), report["reason"]
    assert export_machine.invocations.count("UploadChunk") == 2  # Step Functions retried the chunk once
    uploaded = rows - rows // 10
    assert (report["total_records"], report["uploaded_records"]) == (rows, uploaded)
    assert report["skipped_by_reason"] == {"no_usable_identifier": rows // 10}
    assert report["total_batches"] == 3 == len(set(report["job_request_ids"]))
    key = f"checkpoints/crm/{report['run_id']}/chunks/000000.json"
    result = json.loads(export_machine.s3.get_object(Bucket=STATE_BUCKET, Key=key)["Body"].read())
    assert result["batch_sizes"] == [6_000, 6_000, uploaded - 12_000]  # as an uninterrupted run batches them
    log = export_machine.emulator.request_log()
    posts = [r for r in log if r.method == "POST" and r.path == "/amc/audiences/records"]
    assert [r.status for r in posts] == [202, 503, 503, 202, 202]  # the accepted first batch was not sent again
    members = export_machine.emulator.audience_members(report["audience_id"])
    received = export_machine.emulator.audience(report["audience_id"])["metadata"]["audienceSize"]
    assert received["receivedRecordSize"] == uploaded == len(members)  # every externalUserId received once


def test_redropping_a_file_with_changed_settings_is_a_new_run(export_machine: ExportMachine) -> None:
    export_machine.put_input("incoming/crm/c.csv", SAMPLE)
    status, first = export_machine.run("incoming/crm/c.csv", settings())
    assert status == "SUCCEEDED"
    posts = export_machine.records_posts()
    audience = first["audience_id"]
    assert len(export_machine.emulator.audience_members(audience)) == 18

    # the same bytes again, now to remove those people: must not resume the CREATE/APPEND run's checkpoints
    export_machine.put_input("incoming/crm/c.csv", SAMPLE)
    status, second = export_machine.run(
        "incoming/crm/c.csv", settings(action="UPDATE", audience_id=str(audience), upload_mode="DELETE")
    )
    assert (status, second["status"]) == ("SUCCEEDED", "SUCCEEDED"), second["reason"]
    assert second["run_id"] != first["run_id"] and second["audience_id"] == audience
    assert second["uploaded_records"] == 18 and export_machine.records_posts() > posts
    assert not export_machine.emulator.audience_members(audience)


class EndlessStormAfter(StormAfter):
    """``StormAfter`` whose storm outlasts every task retry: the chunk fails for good after its accepted batches."""

    def upload_records(self, *args: Any) -> str:
        job_id = super().upload_records(*args)
        if self._left == 0:
            self._emulator.faults.fail_next(100, 503, path_prefix="/amc/audiences/records")
        return job_id


def test_a_failure_report_counts_the_batches_amazon_accepted_before_the_failure(
    export_machine: ExportMachine,
) -> None:
    rows = 14_500  # one chunk, three batches: the first is accepted, then the records POSTs fail for good
    body = "externalUserId,email\n" + "".join(f"u{i},user{i}@example.com\n" for i in range(rows))
    export_machine.put_input("incoming/crm/big.csv", body.encode())
    services = runtime.services()
    services.ads = EndlessStormAfter(services.ads, export_machine.emulator, batches=1)

    status, report = export_machine.run("incoming/crm/big.csv", settings())
    assert (status, report["status"]) == ("FAILED", "FAILED")
    assert report["chunks"] == []  # the only chunk never finished
    members = export_machine.emulator.audience_members(report["audience_id"])
    assert report["uploaded_records"] == 6_000 == len(members) and report["total_batches"] == 1
    assert len(report["job_request_ids"]) == 1 and report["job_states"] == {report["job_request_ids"][0]: "SUBMITTED"}


@pytest.mark.parametrize(
    "body", [b"externalUserId,email\nbad id!,a@example.com\n", b"externalUserId,email\n"], ids=["skipped", "header"]
)
def test_waiting_on_a_file_with_nothing_to_upload_succeeds(export_machine: ExportMachine, body: bytes) -> None:
    export_machine.put_input("incoming/crm/empty.csv", body)
    status, report = export_machine.run("incoming/crm/empty.csv", settings())
    assert (status, report["status"], report["reason"]) == ("SUCCEEDED", "SUCCEEDED", "no records to upload")
    assert report["uploaded_records"] == 0 and export_machine.records_posts() == 0


@pytest.mark.parametrize("machine_config", [{"max_concurrency": 4}])
def test_chunks_are_paced_by_the_chunks_planned_when_fewer_than_the_concurrency(
    export_machine: ExportMachine, monkeypatch: pytest.MonkeyPatch
) -> None:
    paced: list[tuple[int, int]] = []
    pacer = steps.chunk_pacer
    monkeypatch.setattr(steps, "chunk_pacer", lambda *args: paced.append(args[:2]) or pacer(*args))
    export_machine.put_input("incoming/crm/c.csv", SAMPLE)
    status, report = export_machine.run("incoming/crm/c.csv", settings(), chunk_bytes=1_000)
    assert status == "SUCCEEDED", report["reason"]
    planned = report["chunks_planned"]
    assert 1 < planned < 4 and paced == [(4, planned)] * planned


def big_csv(rows: int) -> bytes:
    return ("externalUserId,email\n" + "".join(f"u{i},user{i}@example.com\n" for i in range(rows))).encode()


def test_an_upload_chunk_near_its_timeout_stops_after_a_batch_and_the_retry_resumes(
    export_machine: ExportMachine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3
    from tests.integration.export_aws.conftest import REGION

    from adsbridge_sandbox.local_lambda import LocalContext

    rows = 14_500  # one chunk, three batches
    export_machine.put_input("incoming/crm/big.csv", big_csv(rows))
    services = runtime.services()
    services.ads = runtime.ads_clients(boto3.client("secretsmanager", region_name=REGION), runtime.POLICY)

    def remaining_millis(context: Any) -> int:  # the first UploadChunk runs short of time after one batch
        short = export_machine.invocations.count("UploadChunk") == 1 and export_machine.records_posts() >= 1
        return 30_000 if short else 600_000

    monkeypatch.setattr(LocalContext, "get_remaining_time_in_millis", remaining_millis, raising=False)
    status, report = export_machine.run("incoming/crm/big.csv", settings())
    assert (status, report["status"]) == ("SUCCEEDED", "SUCCEEDED"), report["reason"]
    assert export_machine.invocations.count("UploadChunk") == 2
    posts = [r for r in export_machine.emulator.request_log() if r.path == "/amc/audiences/records"]
    assert [r.status for r in posts] == [202, 202, 202]  # the second batch was never sent by the stopped one
    assert report["uploaded_records"] == rows == len(export_machine.emulator.audience_members(report["audience_id"]))


class TimeoutAfter(StormAfter):
    """``StormAfter`` whose Lambda is killed by its timeout (errorType ``Sandbox.Timedout``) after ``batches``."""

    def upload_records(self, *args: Any) -> str:
        if self._left == 0:
            self._left = -1
            raise type("Sandbox.Timedout", (Exception,), {})("Task timed out after 900.00 seconds")
        job_id: str = self._client.upload_records(*args)
        self._left -= 1
        return job_id


def test_an_upload_chunk_lambda_timeout_is_retried_and_resumes(export_machine: ExportMachine) -> None:
    rows = 14_500
    export_machine.put_input("incoming/crm/big.csv", big_csv(rows))
    services = runtime.services()
    services.ads = TimeoutAfter(services.ads, export_machine.emulator, batches=1)
    status, report = export_machine.run("incoming/crm/big.csv", settings())
    assert (status, report["status"]) == ("SUCCEEDED", "SUCCEEDED"), report["reason"]
    assert export_machine.invocations.count("UploadChunk") == 2
    assert report["uploaded_records"] == rows and export_machine.records_posts() == 3


class StartsAnotherExecutionFirst:
    """``Services.ads`` that, on Prepare's first call (about to create the audience), first runs ``other`` to
    its end: a second execution of the same run, as a duplicate S3 event or an operator's re-drop starts one."""

    def __init__(self, clients: Any, other: Any) -> None:
        self._clients, self._other = clients, other
        self.outcome: tuple[str, dict[str, Any]] | None = None

    def __call__(self, job: Any, settings: Any) -> Any:
        if self.outcome is None:
            self.outcome = ("running", {})
            self.outcome = self._other()
        return self._clients(job, settings)


def test_a_second_execution_of_a_run_in_progress_fails_fast_and_creates_nothing(
    export_machine: ExportMachine,
) -> None:
    export_machine.put_input("incoming/crm/c.csv", SAMPLE)
    services = runtime.services()
    other = StartsAnotherExecutionFirst(
        services.ads, lambda: export_machine.run("incoming/crm/c.csv", settings(), chunk_bytes=700)
    )
    services.ads = other
    status, first = export_machine.run("incoming/crm/c.csv", settings(), chunk_bytes=700)
    assert (status, first["status"]) == ("SUCCEEDED", "SUCCEEDED"), first["reason"]
    assert other.outcome is not None
    status, second = other.outcome
    assert (status, second["status"]) == ("FAILED", "FAILED")
    assert second["reason"] == (
        f"RunInProgress: run {first['run_id']} is already being exported by execution {first['execution']}"
    )
    log = export_machine.emulator.request_log()
    assert sum(1 for r in log if r.method == "POST" and r.path == "/amc/audiences/metadata") == 1
    assert export_machine.records_posts() == first["total_batches"]  # nothing uploaded twice
    assert len(export_machine.emulator.audience_members(first["audience_id"])) == 18


def test_polling_many_jobs_takes_slices_that_follow_each_other(
    export_machine: ExportMachine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(steps, "POLL_SLICE", 1)
    export_machine.put_input("incoming/crm/c.csv", SAMPLE)
    status, report = export_machine.run("incoming/crm/c.csv", settings(), chunk_bytes=700)
    assert (status, report["status"]) == ("SUCCEEDED", "SUCCEEDED"), report["reason"]
    jobs = len(report["job_request_ids"])
    assert jobs >= 3 and set(report["job_states"].values()) == {"SUCCEEDED"}
    polls = [event["poll"] for name, event in export_machine.invocations.calls if name == "PollStatus"]
    assert len(polls) >= jobs
    assert [poll["more"] for poll in polls[1:jobs]] == [True] * (jobs - 1)  # the slices of the first round
    assert {poll["round"] for poll in polls[1:jobs]} == {1}


def test_a_stray_quote_is_counted_line_by_line_in_chunks(export_machine: ExportMachine) -> None:
    lines = ["externalUserId,firstname,email,countrycode"]
    lines += [f'v{i},"Dee, Jr",dee{i}@example.com,US' for i in range(40)]
    lines += ['u1,"Big Jim,jim@x.com,US'] + [f"u{i},Bob,bob{i}@example.com,US" for i in range(2, 60)]
    lines += ['u60,"Al",al@x.com,US', "u61,Cy,cy@x.com,US"]
    export_machine.put_input("incoming/crm/quote.csv", ("\n".join(lines) + "\n").encode())
    status, report = export_machine.run("incoming/crm/quote.csv", settings(), chunk_bytes=700)
    assert (status, report["status"]) == ("SUCCEEDED", "SUCCEEDED"), report["reason"]
    assert report["chunks_planned"] >= 2
    assert report["total_records"] == len(lines) - 1 == 101
    assert report["skipped_by_reason"] == {"malformed_row": 60}  # u1 through u60: one a line
    assert report["uploaded_records"] == 41 == len(export_machine.emulator.audience_members(report["audience_id"]))


def test_a_header_without_the_columns_ends_in_a_failure_report_before_any_audience(
    export_machine: ExportMachine,
) -> None:
    export_machine.put_input("incoming/crm/hdr.csv", b"External User ID,E-mail\nu1,a@example.com\nu2,c@example.com\n")
    status, report = export_machine.run("incoming/crm/hdr.csv", settings(), chunk_bytes=700)
    assert (status, report["status"]) == ("FAILED", "FAILED")
    assert report["reason"].startswith("InputError: input: no externaluserid column; no PII column (email,")
    assert report["reason"].endswith("(found: external user id, e-mail)")
    assert report["audience_id"] is None and report["total_records"] == 0
    assert not [r for r in export_machine.emulator.request_log() if r.path.startswith("/amc")]
    assert export_machine.invocations.count("UploadChunk") == 0
