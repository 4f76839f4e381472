"""``adsbridge export --query``: an Athena query (moto's, with a queued result) exported like ``--input s3://…``.

moto does not run SQL: ``set_athena_result`` queues what the next query "returns", written as CSV to
``<OutputLocation><QueryExecutionId>.csv`` as Athena does (see ``tests/integration/export_aws/test_scheduled_query.py``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.athena.models import AthenaBackend, Execution
from moto.moto_api._internal.models import moto_api_backend
from tests.integration.export.test_export_job import SAMPLE, write_settings

from adsbridge.cli import main
from adsbridge_sandbox.emulator import Emulator

REGION = "us-east-1"
RESULTS = "adsbridge-query-results"
SQL = "SELECT * FROM crm.customers_to_target"


@pytest.fixture
def athena(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {"AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket=RESULTS)
        yield


def queue_result(data: bytes) -> None:
    rows = [{"Data": [{"VarCharValue": value} if value else {} for value in row]}
            for row in csv.reader(io.StringIO(data.decode()))]  # fmt: skip
    moto_api_backend.set_athena_result(rows, [], account_id="123456789012", region=REGION)


def export_query(tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    report = tmp_path / "report.json"
    code = main(["export", "--settings", write_settings(tmp_path), "--report-json", str(report),
                 "--poll-interval", "0.05", *extra])  # fmt: skip
    return code, json.loads(report.read_text()) if report.exists() else {}


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.usefixtures("athena")
def test_query_result_is_exported_as_an_s3_input_would_be(
    emulator_env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    queue_result(SAMPLE.read_bytes())
    code, report = export_query(
        tmp_path, "--query", SQL, "--database", "crm", "--output-location", f"s3://{RESULTS}/adhoc/"
    )
    assert code == 0, capsys.readouterr().err
    assert report["status"] == "SUCCEEDED"
    assert report["total_records"] == 26 and report["uploaded_records"] == 18
    assert len(emulator_env.audience_members(report["audience_id"])) == 18
    out = capsys.readouterr().out
    assert "Total records: 26" in out


@pytest.mark.usefixtures("athena")
def test_a_failed_query_is_one_line_and_sends_nothing(
    emulator_env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def failed(self: AthenaBackend, exec_id: str) -> Execution:
        execution = self.executions[exec_id]
        execution.status = "FAILED"
        return execution

    monkeypatch.setattr(AthenaBackend, "get_query_execution", failed)
    code, report = export_query(tmp_path, "--query", SQL, "--database", "crm",
                                "--output-location", f"s3://{RESULTS}/adhoc/")  # fmt: skip
    line = one_line(capsys.readouterr().err)
    assert code == 1 and report == {}
    assert line.startswith("adsbridge export: Athena query ") and " ended FAILED: " in line
    assert not [r for r in emulator_env.request_log() if r.path.startswith("/amc")]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--query", SQL], "--query needs --database"),
        (["--input", "x.csv", "--database", "crm"], "--database only go with --query"),
        (["--query", SQL, "--database", "crm", "--output-location", "bucket/x/"], "is not an s3://bucket/prefix/"),
        (["--query", SQL, "--input", "x.csv"], "not allowed with argument"),
        ([], "one of the arguments --input --query is required"),
    ],
)
def test_query_options_that_cannot_work_are_refused(
    emulator_env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    try:
        code, _ = export_query(tmp_path, *args)
    except SystemExit as exc:  # argparse's own refusals exit from the parser
        code = int(str(exc.code))
    assert code == 2
    assert expected in one_line(capsys.readouterr().err)
    assert emulator_env.request_log() == []


def test_no_aws_region_is_one_line(
    emulator_env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    code, report = export_query(tmp_path, "--query", SQL, "--database", "crm")
    assert (code, report) == (1, {})
    assert one_line(capsys.readouterr().err) == "adsbridge export: Athena client: You must specify a region."
