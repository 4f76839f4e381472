"""A CREATE job run again (Treasure Data: "can be scheduled to run repeatedly. No need any modifications") adds
its records to the audience its first run created, through ``adsbridge export`` against the emulator."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from tests.integration.export.test_export_job import export, write_rows

from adsbridge.ads import audiences_client
from adsbridge.ads.errors import ApiError
from adsbridge.export import run
from adsbridge.regions import Region
from adsbridge_sandbox.emulator import Emulator

METADATA = "/amc/audiences/metadata"
ROOT = Path(__file__).resolve().parents[3]


def users(ids: range) -> list[list[str]]:
    return [[f"u{i}", f"user{i}@example.com", "", "", "", "", "", "", "", "US"] for i in ids]


def metadata_calls(emulator: Emulator) -> list[tuple[str, int]]:
    return [(r.method, r.status) for r in emulator.request_log() if r.path.startswith(METADATA)]


def test_two_create_runs_leave_one_audience_with_both_files_members(
    emulator_env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monday = write_rows(tmp_path / "monday.csv", users(range(0, 30)))
    tuesday = write_rows(tmp_path / "tuesday.csv", users(range(20, 50)))
    code, first = export(tmp_path, monday)
    assert code == 0 and first["status"] == "SUCCEEDED" and first["reused_audience"] is False
    capsys.readouterr()
    code, second = export(tmp_path, tuesday)
    assert code == 0, capsys.readouterr().err
    assert second["status"] == "SUCCEEDED" and second["reused_audience"] is True
    assert second["audience_id"] == first["audience_id"]
    assert emulator_env.audience_members(first["audience_id"]) == {f"u{i}" for i in range(50)}
    # one audience created, checked again, never changed (the settings did not change) and nothing refused
    assert metadata_calls(emulator_env) == [("POST", 201), ("GET", 200)]
    out = capsys.readouterr().out
    assert f"Reused audience: {first['audience_id']} (created by an earlier run of this job)" in out
    registry = json.loads((Path(os.environ["ADSBRIDGE_STATE_DIR"]) / "audiences.json").read_text())
    assert [entry["audience_id"] for entry in registry["audiences"].values()] == [str(first["audience_id"])]


def test_a_run_that_fails_mid_upload_still_leaves_its_audience_to_the_next(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_rows(tmp_path / "in.csv", users(range(10)))

    def refused(*_: object, **__: object) -> None:
        raise ApiError("POST", "/amc/audiences/records", 400, "refused")

    with monkeypatch.context() as patched:
        patched.setattr(run, "upload_rows", refused)
        code, failed = export(tmp_path, source)
    assert code == 1 and failed["status"] == "FAILED" and failed["uploaded_records"] == 0
    err = capsys.readouterr().err
    assert "is recorded for this job: running it again on the same input resumes after the last batch" in err
    assert "every run of this job adds to that audience" in err
    code, again = export(tmp_path, source)  # the same input: the same run, resumed with the audience it prepared
    assert code == 0 and again["reused_audience"] is False and again["audience_id"] == failed["audience_id"]
    code, following = export(tmp_path, write_rows(tmp_path / "next.csv", users(range(10, 15))))  # the next file
    assert code == 0 and following["reused_audience"] is True and following["audience_id"] == failed["audience_id"]
    assert len(emulator_env.audience_members(failed["audience_id"])) == 15


def test_an_external_id_amazon_has_but_nothing_recorded_says_run_update(
    emulator_env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_rows(tmp_path / "in.csv", users(range(5)))
    code, created = export(tmp_path, source)
    assert code == 0
    monkeypatch.setenv("ADSBRIDGE_STATE_DIR", str(tmp_path / "another-machine"))
    capsys.readouterr()
    code, refused = export(tmp_path, source)
    assert code == 1 and refused["status"] == "FAILED" and refused["audience_id"] is None
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(
        "adsbridge export: FAILED: PrepareError: external_audience_id: Amazon already has an audience with external id"
        " 'adsbridge-sample-audience' and none is recorded for it in "
    )
    assert '"action": "UPDATE", "audience_id": <that audience\'s id>' in err
    code, updated = export(tmp_path, source, action="UPDATE", audience_id=created["audience_id"])
    assert code == 0 and updated["audience_id"] == created["audience_id"]  # what the message says works


def test_the_emulator_refuses_a_duplicate_external_id_with_the_model_s_error_body(emulator_env: Emulator) -> None:
    """Amazon's status for it is UNVERIFIED: the emulator's 400 must keep the contract's error shape."""
    client = audiences_client(Region.NA)
    connection = client.create_connection({"amcInstanceId": "amc1"})
    body = {"name": "VIP customers", "description": "", "targetResource": {"connectionId": connection},
            "metadata": {"externalAudienceId": "same"}}  # fmt: skip
    client.create_audience(body)
    with pytest.raises(ApiError) as refused:
        client.create_audience(body)
    assert refused.value.status == 400 and "already exists" in refused.value.api_message
    contract = json.loads((ROOT / "docs/ads-api-contract.json").read_text())
    error = contract["definitions"]["error"]
    assert error["required"] == ["message"] and error["properties"]["message"]["type"] == "string"


def test_a_state_directory_that_cannot_be_made_stops_a_create_before_any_request(
    emulator_env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("ADSBRIDGE_STATE_DIR", str(tmp_path / "a-file/state"))
    code, report = export(tmp_path, write_rows(tmp_path / "in.csv", users(range(5))))
    assert code == 2 and report == {} and emulator_env.request_log() == []
    assert capsys.readouterr().err.strip() == (
        f"adsbridge export: state directory {tmp_path / 'a-file/state'} cannot be made (Not a directory):"
        " set ADSBRIDGE_STATE_DIR to a writable directory"
    )


def test_a_state_directory_that_cannot_be_made_leaves_an_update_running_without_resume(
    emulator_env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_rows(tmp_path / "in.csv", users(range(5)))
    code, created = export(tmp_path, source)
    assert code == 0
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("ADSBRIDGE_STATE_DIR", str(tmp_path / "a-file/state"))
    capsys.readouterr()
    code, updated = export(tmp_path, source, action="UPDATE", audience_id=created["audience_id"])
    assert code == 0 and updated["uploaded_records"] == 5  # sent: resume is a convenience, not a precondition
    assert capsys.readouterr().err.splitlines()[0] == (
        "adsbridge export: warning: progress is not saved, so this run cannot resume: state directory "
        f"{tmp_path / 'a-file/state'} cannot be made (Not a directory): set ADSBRIDGE_STATE_DIR to a writable directory"
    )
    code, restarted = export(tmp_path, source, "--restart", action="UPDATE", audience_id=created["audience_id"])
    assert code == 0 and restarted["uploaded_records"] == 5
    assert (
        capsys.readouterr()
        .err.splitlines()[0]
        .startswith(  # the saved state cannot be deleted either
            "adsbridge export: warning: progress is not saved, so this run cannot resume, and --restart forgets nothing: "
        )
    )
