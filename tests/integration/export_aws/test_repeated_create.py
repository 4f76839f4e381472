"""A CREATE job's second file, through the real state machine in moto, appends to the audience its first file's
run created: the registry is kept in the state bucket by the Prepare step."""

from __future__ import annotations

import csv
import io

from tests.integration.export.test_export_job import HEADER
from tests.integration.export_aws.conftest import STATE_BUCKET, ExportMachine
from tests.integration.export_aws.test_state_machine import settings

METADATA = "/amc/audiences/metadata"
REGISTRY = "audiences/NA/amcsample0001/ENTITYSAMPLE0001/5820191230101/adsbridge-sample-audience.json"


def users(ids: range) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows([f"u{i}", f"user{i}@example.com", "", "", "", "", "", "", "", "US"] for i in ids)
    return out.getvalue().encode()


def test_two_create_runs_of_one_job_leave_one_audience_with_both_files_members(export_machine: ExportMachine) -> None:
    export_machine.put_input("incoming/crm/monday.csv", users(range(0, 30)))
    export_machine.put_input("incoming/crm/tuesday.csv", users(range(20, 50)))
    status, first = export_machine.run("incoming/crm/monday.csv", settings(), chunk_bytes=700)
    assert (status, first["status"], first["reused_audience"]) == ("SUCCEEDED", "SUCCEEDED", False), first["reason"]
    status, second = export_machine.run("incoming/crm/tuesday.csv", settings(), chunk_bytes=700)
    assert (status, second["status"], second["reused_audience"]) == ("SUCCEEDED", "SUCCEEDED", True), second["reason"]
    assert second["audience_id"] == first["audience_id"]
    assert export_machine.emulator.audience_members(first["audience_id"]) == {f"u{i}" for i in range(50)}
    calls = [(r.method, r.status) for r in export_machine.emulator.request_log() if r.path.startswith(METADATA)]
    assert calls == [("POST", 201), ("GET", 200)]  # created once, checked once, never changed or refused
    body = export_machine.s3.get_object(Bucket=STATE_BUCKET, Key=REGISTRY)["Body"].read()
    assert f'"audience_id": "{first["audience_id"]}"'.encode() in body


def test_a_deleted_record_ends_in_a_report_that_says_run_update(export_machine: ExportMachine) -> None:
    export_machine.put_input("incoming/crm/monday.csv", users(range(5)))
    export_machine.put_input("incoming/crm/tuesday.csv", users(range(5, 10)))
    status, _ = export_machine.run("incoming/crm/monday.csv", settings())
    assert status == "SUCCEEDED"
    export_machine.s3.delete_object(Bucket=STATE_BUCKET, Key=REGISTRY)  # the registry reset by hand
    status, report = export_machine.run("incoming/crm/tuesday.csv", settings())
    assert (status, report["status"], report["audience_id"]) == ("FAILED", "FAILED", None)
    assert report["reason"].startswith(
        "PrepareError: external_audience_id: Amazon already has an audience with external id "
        f"'adsbridge-sample-audience' and none is recorded for it in s3://{STATE_BUCKET}/{REGISTRY}: run the job "
        'with "action": "UPDATE", "audience_id": <that audience\'s id>'
    )
