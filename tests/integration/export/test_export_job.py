"""``adsbridge export`` end to end against the emulator (and moto S3): counts, ledger, failures."""

from __future__ import annotations

import _csv
import csv
import gzip
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from adsbridge.ads import AudiencesClient
from adsbridge.cli import main
from adsbridge.export.job import RunOptions, run_export
from adsbridge.identity import PII_FIELDS
from adsbridge.settings import parse_settings
from adsbridge_sandbox.emulator import Emulator

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "samples/customers.csv"
HEADER = ["externalUserId", *PII_FIELDS, "countrycode"]


def settings_dict(**changes: Any) -> dict[str, Any]:
    data = json.loads((ROOT / "samples/settings.json").read_text())
    data.update(wait_until_finish=True, max_wait_time=1)
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def write_settings(tmp_path: Path, **changes: Any) -> str:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(settings_dict(**changes)))
    return str(path)


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def export(tmp_path: Path, input_path: str | Path, *extra: str, **changes: Any) -> tuple[int, dict[str, Any]]:
    report = tmp_path / "report.json"
    code = main(
        ["export", "--settings", write_settings(tmp_path, **changes), "--input", str(input_path),
         "--report-json", str(report), "--poll-interval", "0.05", *extra]
    )  # fmt: skip
    return code, json.loads(report.read_text()) if report.exists() else {}


def test_sample_file_end_to_end(emulator_env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = export(tmp_path, SAMPLE)
    assert code == 0, capsys.readouterr().err
    assert report["status"] == "SUCCEEDED"
    assert report["total_records"] == 26 == report["uploaded_records"] + report["skipped_records"]
    assert report["skipped_by_reason"] == {
        "invalid_country_code": 1,
        "invalid_external_user_id": 1,
        "missing_external_user_id": 1,
        "no_usable_identifier": 2,
        "uk_eea_without_consent": 3,
    }
    assert report["total_batches"] == report["completed_batches"] == 1
    assert report["received_records"] == report["uploaded_records"]
    assert 0 < report["matched_records"] <= report["received_records"]
    members = emulator_env.audience_members(report["audience_id"])
    assert len(members) == report["uploaded_records"]
    out = capsys.readouterr().out
    assert "Total records: 26" in out and f"Audience ID: {report['audience_id']}" in out
    assert "example.com" not in out  # no PII in the report


def test_counts_add_up_and_batches_stay_under_6000(emulator_env: Emulator, tmp_path: Path) -> None:
    rows = [[f"u{i}", f"user{i}@example.com", "", "", "", "", "", "", "", "US"] for i in range(12_500)]
    rows += [["", "x@example.com", "", "", "", "", "", "", "", ""], [f"v{1}", "", "", "", "", "", "", "", "", ""]]
    code, report = export(tmp_path, write_rows(tmp_path / "big.csv", rows))
    assert code == 0
    assert report["total_records"] == 12_502 == report["uploaded_records"] + report["skipped_records"]
    assert report["total_batches"] == 3
    jobs = [emulator_env.job(job_id) for job_id in report["job_request_ids"]]
    assert [job["audienceSize"]["receivedRecordSize"] for job in jobs] == [6000, 6000, 500]


def test_create_then_delete_empties_the_audience(emulator_env: Emulator, tmp_path: Path) -> None:
    rows = [
        [f"u{i}", f"user{i}@example.com", "2065550100", "Ann", "Lee", "1 Main St", "Seattle", "WA", "98101", "US"]
        for i in range(50)
    ]
    source = write_rows(tmp_path / "in.csv", rows)
    _, created = export(tmp_path, source)
    audience_id = created["audience_id"]
    assert len(emulator_env.audience_members(audience_id)) == 50
    code, deleted = export(tmp_path, source, action="UPDATE", audience_id=audience_id, upload_mode="DELETE")
    assert code == 0 and deleted["status"] == "SUCCEEDED"
    assert emulator_env.audience_members(audience_id) == frozenset()


def test_bad_settings_fail_before_any_request(
    emulator_env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = export(tmp_path, SAMPLE, time_to_live=99_999_999, target="AMC_AND_DSP", dsp_advertiser_id="x1")
    assert code == 2 and report == {}
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "time_to_live" in err and "dsp_advertiser_id" in err
    assert emulator_env.request_log() == []


def test_missing_input_fails_before_creating_an_audience(emulator_env: Emulator, tmp_path: Path) -> None:
    code, report = export(tmp_path, tmp_path / "nope.csv")
    assert code == 1 and report["status"] == "FAILED" and "nope.csv" in report["reason"]
    assert not [r for r in emulator_env.request_log() if r.path.startswith("/amc")]


def test_unknown_audience_on_update_names_the_setting(emulator_env: Emulator, tmp_path: Path) -> None:
    code, report = export(tmp_path, SAMPLE, action="UPDATE", audience_id="123456789012345678")
    assert code == 1
    assert report["reason"].startswith("PrepareError: audience_id: audience 123456789012345678 does not exist")
    assert not [r for r in emulator_env.request_log() if r.path == "/amc/audiences/records"]


def test_update_changes_description_ttl_and_fee(emulator_env: Emulator, tmp_path: Path) -> None:
    _, created = export(tmp_path, SAMPLE)
    audience_id = created["audience_id"]
    export(tmp_path, SAMPLE, action="UPDATE", audience_id=audience_id, audience_description="Refreshed",
           time_to_live=604800, audience_fee="USD:99")  # fmt: skip
    stored = emulator_env.audience(audience_id)
    assert stored["description"] == "Refreshed"
    assert stored["metadata"]["ttl"] == 604800
    assert stored["metadata"]["audienceFees"] == [{"currency": "USD", "cpmCents": 99}]


def test_dsp_target_reaches_dsp(emulator_env: Emulator, tmp_path: Path) -> None:
    _, report = export(tmp_path, SAMPLE, target="AMC_AND_DSP")
    job = emulator_env.job(report["job_request_ids"][0])
    assert job["audienceSize"]["dspAudienceSize"] > 0
    _, amc_only = export(tmp_path, SAMPLE, target="AMC", dsp_advertiser_id=None, external_audience_id="amc-only")
    assert emulator_env.job(amc_only["job_request_ids"][0])["audienceSize"]["dspAudienceSize"] == 0


def test_uk_eea_rows_are_sent_when_consent_is_not_required(emulator_env: Emulator, tmp_path: Path) -> None:
    _, report = export(tmp_path, SAMPLE, require_consent_for_uk_eea=False)
    assert "uk_eea_without_consent" not in report["skipped_by_reason"]
    assert report["uploaded_records"] == 21


def test_consent_columns_become_user_consent(emulator_env: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "consent.csv"
    path.write_text(
        "externaluserid,email,countrycode,amznAdStorage,amznUserData,tcf\n"
        "de1,hans@example.de,DE,GRANTED,GRANTED,\n"
        "de2,greta@example.de,DE,,,CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA\n"  # a whole TC string
        "de3,otto@example.de,DE,,,\n"
        "de4,lena@example.de,DE,perhaps,,\n"
    )
    _, report = export(tmp_path, path)
    assert report["uploaded_records"] == 2
    assert report["skipped_by_reason"] == {"invalid_consent": 1, "uk_eea_without_consent": 1}
    assert report["invalid_records"] == 0  # the emulator validated the userConsent blocks


def test_5xx_storm_ends_in_a_failure_report(
    emulator_env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator_env.faults.fail_next(100, status=503, path_prefix="/amc/audiences/records")
    settings = parse_settings(settings_dict())
    from adsbridge.ads import AdsSession, LwaCredentials, RetryPolicy, TokenProvider

    c = emulator_env.credentials
    tokens = TokenProvider(LwaCredentials(c.client_id, c.client_secret, c.refresh_token), emulator_env.token_url)
    client = AudiencesClient(
        AdsSession(emulator_env.url, tokens, policy=RetryPolicy(max_attempts=3), sleep=lambda s: None)
    )
    report = run_export(settings, str(SAMPLE), client, RunOptions(accept_terms=True))
    assert report.status == "FAILED"
    assert "HTTP 503" in report.reason  # type: ignore[operator]
    assert report.audience_id is not None and report.job_request_ids == []


def test_terms_must_be_accepted_explicitly(emulator_env: Emulator, tmp_path: Path) -> None:
    emulator_env.state.set_terms(emulator_env.state.terms_token, False)
    code, report = export(tmp_path, SAMPLE)
    assert code == 1 and "AMC terms are not accepted" in report["reason"]
    code, report = export(tmp_path, SAMPLE, "--accept-terms")
    assert code == 0 and report["status"] == "SUCCEEDED"


def test_wait_stops_at_max_wait_time(emulator: Emulator, client: AudiencesClient) -> None:
    emulator.state.pending_seconds = 3600  # Amazon is slow today
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    options = RunOptions(poll_interval=20, accept_terms=True, sleep=sleep, clock=lambda: now[0])
    report = run_export(parse_settings(settings_dict(max_wait_time=2)), str(SAMPLE), client, options)
    assert report.status == "TIMED_OUT"
    assert report.job_states == {report.job_request_ids[0]: "PENDING"}
    polls = [r for r in emulator.request_log() if r.path.startswith("/amc/audiences/records/")]
    assert len(polls) == 1 + 120 // 20  # every 20 s for 2 minutes, then stop


def test_gzip_json_lines_from_s3(emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    lines = "".join(
        json.dumps({"externalUserId": f"s3u{i}", "email": f"s3u{i}@example.com"}) + "\n" for i in range(300)
    )
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="adsbridge-drops")
        s3.put_object(
            Bucket="adsbridge-drops", Key="incoming/job/customers.jsonl.gz", Body=gzip.compress(lines.encode())
        )
        code, report = export(tmp_path, "s3://adsbridge-drops/incoming/job/customers.jsonl.gz")
    assert code == 0 and report["uploaded_records"] == 300
    assert len(emulator_env.audience_members(report["audience_id"])) == 300


def test_waiting_on_a_file_whose_rows_are_all_skipped_succeeds(emulator_env: Emulator, tmp_path: Path) -> None:
    source = write_rows(tmp_path / "skipped.csv", [["bad id!", "a@example.com", "", "", "", "", "", "", "", "US"]])
    code, report = export(tmp_path, source)
    assert code == 0
    assert (report["status"], report["reason"]) == ("SUCCEEDED", "no records to upload")
    assert report["skipped_records"] == 1 and report["job_request_ids"] == []


def test_update_keeps_the_audience_fields_its_settings_leave_out(emulator_env: Emulator, tmp_path: Path) -> None:
    _, created = export(tmp_path, SAMPLE, time_to_live=604800)
    audience_id = created["audience_id"]
    code, _ = export(tmp_path, SAMPLE, action="UPDATE", audience_id=audience_id, upload_mode="DELETE",
                     time_to_live=None, audience_description=None, audience_fee=None)  # fmt: skip
    assert code == 0
    stored = emulator_env.audience(audience_id)
    assert stored["metadata"]["ttl"] == 604800
    assert stored["description"] == "Customers from the bundled sample file"
    assert stored["metadata"]["audienceFees"] == [{"currency": "USD", "cpmCents": 150}]
    assert not [r for r in emulator_env.request_log() if r.method == "PUT"]


def stray_quote_csv(path: Path, rows: int) -> Path:
    """``u1,"Big Jim,...`` never closed: csv would run the field on to the next quote (``u{rows},"Al"``)."""
    lines = ["externalUserId,firstname,email", 'u1,"Big Jim,jim@x.com']
    lines += [f"u{i},Bob,bob{i}@example.com" for i in range(2, rows)]
    lines += [f'u{rows},"Al",al@x.com', f"u{rows + 1},Cy,cy@x.com"]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("rows", [500, 6_000], ids=["short run", "run past the csv field limit"])
def test_a_stray_quote_counts_every_line_and_still_reports(emulator_env: Emulator, tmp_path: Path, rows: int) -> None:
    code, report = export(tmp_path, stray_quote_csv(tmp_path / "quote.csv", rows), country_code="US")
    assert code == 0 and report["status"] == "SUCCEEDED", report.get("reason")
    assert report["total_records"] == rows + 1 == report["uploaded_records"] + report["skipped_records"]
    assert report["skipped_by_reason"]["malformed_row"] >= 1
    members = emulator_env.audience_members(report["audience_id"])
    assert len(members) == report["uploaded_records"] >= 1  # u{rows+1} at least
    assert "jim" not in json.dumps(report).lower()


def test_latin1_lines_are_counted_as_malformed_not_hashed_without_their_accents(
    emulator_env: Emulator, tmp_path: Path
) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("externalUserId,lastname,email\nu1,Müller,josé@x.com\nu2,Smith,s@x.com\n".encode("latin-1"))
    code, report = export(tmp_path, path, country_code="US")
    assert code == 0 and report["status"] == "SUCCEEDED", report.get("reason")
    assert report["total_records"] == 2 and report["uploaded_records"] == 1
    assert report["skipped_by_reason"] == {"malformed_row": 1}


def test_a_header_without_the_columns_fails_before_creating_an_audience(emulator_env: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "hdr.csv"
    path.write_text("External User ID,E-mail\nu1,a@example.com\nu2,c@example.com\n")
    code, report = export(tmp_path, path)
    assert code == 1 and report["status"] == "FAILED"
    assert report["reason"].startswith("InputError: input: no externaluserid column; no PII column (email, phone,")
    assert report["reason"].endswith("(found: external user id, e-mail)")
    assert report["audience_id"] is None and report["total_records"] == 0
    assert not [r for r in emulator_env.request_log() if r.path.startswith("/amc")]


def test_a_csv_error_while_reading_still_ends_in_a_report(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adsbridge.export import job, source

    class Broken(source.RowReader):
        def __next__(self) -> source.Row | source.MalformedRow:
            raise _csv.Error("field larger than field limit (131072)")

    monkeypatch.setattr(job, "read_rows", lambda stream, **kwargs: Broken(stream, **kwargs))
    code, report = export(tmp_path, SAMPLE)
    assert (code, report["status"], report["reason"]) == (1, "FAILED", "Error: field larger than field limit (131072)")


def test_json_lines_floats_from_pandas_are_integers(emulator_env: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "floats.jsonl"
    path.write_text(
        '{"externalUserId": "u1", "phone": 4138714499.0, "countrycode": "US"}\n'
        '{"externalUserId": "u2", "phone": 4138714499.5, "countrycode": "US"}\n'
    )
    code, report = export(tmp_path, path)
    assert code == 0 and report["uploaded_records"] == 1
    assert report["skipped_by_reason"] == {"malformed_row": 1}
