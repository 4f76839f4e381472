"""The real ASL file executed by moto, each task answered by the real handler against moto S3 and the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.integration.export_aws.conftest import ExportMachine

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
    assert export_machine.invocations.count("poll-status") >= 1


def test_no_wait_skips_polling_and_reports_uploaded(export_machine: ExportMachine) -> None:
    export_machine.put_input("incoming/crm/c.csv", SAMPLE)
    status, report = export_machine.run("incoming/crm/c.csv", settings(wait_until_finish=False, max_wait_time=None))
    assert (status, report["status"]) == ("SUCCEEDED", "UPLOADED")
    assert report["uploaded_records"] == 18
    assert export_machine.invocations.count("poll-status") == 0


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
    assert report["reason"].startswith("AdsRetryable: ApiError:") and "503" in report["reason"]
    assert report["audience_id"] is not None  # prepared before the storm: the report says which audience
    assert export_machine.invocations.count("upload-chunk") == 4  # the task was retried 3 times before giving up


def test_a_short_server_error_storm_is_outlasted_by_the_task_retry(export_machine: ExportMachine) -> None:
    export_machine.put_input("incoming/crm/c.csv", SAMPLE)
    export_machine.emulator.faults.fail_next(3, 503, path_prefix="/amc/audiences/records")  # > the session's 2 tries
    status, report = export_machine.run("incoming/crm/c.csv", settings())
    assert (status, report["status"]) == ("SUCCEEDED", "SUCCEEDED"), report["reason"]
    assert export_machine.invocations.count("upload-chunk") == 2 and report["uploaded_records"] == 18


def test_a_non_retryable_ads_error_is_not_retried(export_machine: ExportMachine) -> None:
    export_machine.put_input("incoming/crm/c.csv", SAMPLE)
    export_machine.emulator.revoke_refresh_token()
    status, report = export_machine.run("incoming/crm/c.csv", settings())
    assert (status, report["status"]) == ("FAILED", "FAILED")
    assert report["reason"].startswith("AuthError:") and "invalid_grant" in report["reason"]
    assert export_machine.invocations.count("prepare") == 1


@pytest.mark.parametrize("machine_config", [{"MaxConcurrency": "1"}])
def test_rerun_after_a_crash_between_chunks_uploads_nothing_twice(export_machine: ExportMachine) -> None:
    export_machine.put_input("incoming/crm/c.csv", SAMPLE)
    export_machine.invocations.crash.append(("upload-chunk", lambda event: event["chunk"]["index"] == 1))
    status, first = export_machine.run("incoming/crm/c.csv", settings(), chunk_bytes=700)
    assert status == "FAILED" and first["status"] == "FAILED"
    assert "simulated Lambda crash" in first["reason"]
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
