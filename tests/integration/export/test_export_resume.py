"""``adsbridge export`` run again on the same input with the same settings resumes after the last batch Amazon
accepted (as the state machine resumes a chunk), against the emulator: exactly the remaining rows are sent, and the
report counts what an uninterrupted run counts. ``--restart`` sends everything again."""

from __future__ import annotations

import gzip
import json
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import IO, Any

import boto3
import pytest
from moto import mock_aws
from tests.integration.export.test_export_job import HEADER, export

from adsbridge.ads.audiences import AudiencesClient
from adsbridge.ads.errors import ApiError
from adsbridge.export import cli, job, resume, run, upload
from adsbridge_sandbox.emulator import Emulator

RECORDS = "/amc/audiences/records"
ROWS = 40  # every 7th without an externalUserId (skipped): 34 uploaded, in batches of BATCH
BATCH = 4
COUNTED = ("total_records", "uploaded_records", "skipped_records", "skipped_by_reason", "total_batches")


def table() -> list[list[str]]:
    return [[f"u{i}" if i % 7 else "", f"user{i}@example.com", "", "", "", "", "", "", "", "US"] for i in range(ROWS)]


def write_input(folder: Path, name: str) -> Path:
    """The same rows as CSV, gzip CSV or JSON lines (quoted newlines in an address: a row spanning lines); a name
    with ``-cr`` ends lines with a lone ``\r``, as Excel for Mac's "CSV (Macintosh)" does (else ``\r\n``)."""
    end = "\r" if "-cr" in name else "\r\n"
    rows = [[*row[:5], f"1 Main St{end}Apt 2" if i % 5 == 0 else "", *row[6:]] for i, row in enumerate(table())]
    if name.endswith((".jsonl", ".jsonl.gz")):
        text = "".join(json.dumps(dict(zip([h.lower() for h in HEADER], row, strict=True))) + "\n" for row in rows)
    else:
        lines = [HEADER, *rows]
        text = "".join(",".join(f'"{cell}"' if end in cell else cell for cell in line) + end for line in lines)
    path = folder / name
    path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    return path


class Uploads:
    """Every record Amazon accepted (by externalUserId), the batch count, and an injected failure or stop."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ids: list[str] = []
        self.batches = 0
        self.fail_at: int | None = None  # the batch (counted from 1) Amazon refuses, once
        original = AudiencesClient.upload_records

        def upload_records(client: AudiencesClient, audience_id: int, records: Any, resource: Any) -> str:
            if self.batches + 1 == self.fail_at:
                self.fail_at = None
                raise ApiError("POST", RECORDS, 400, "refused")
            job = original(client, audience_id, records, resource)
            self.batches += 1
            self.ids += [json.loads(record)["externalUserId"] for record in records]
            return job

        monkeypatch.setattr(AudiencesClient, "upload_records", upload_records)
        monkeypatch.setattr(run, "upload_rows", partial(upload.upload_rows, max_records=BATCH))


def counted(report: dict[str, Any]) -> dict[str, Any]:
    return {name: report[name] for name in COUNTED}


def uninterrupted(folder: Path, name: str, uploads: Uploads) -> dict[str, Any]:
    """The counts of one run over the whole input (a file of its own); ``uploads`` counts from nothing again."""
    folder.mkdir()
    code, report = export(folder, write_input(folder, name))
    assert code == 0, report.get("reason")
    uploads.ids, uploads.batches = [], 0
    return counted(report)


@pytest.mark.parametrize("name", ["in.csv", "in.csv.gz", "in.jsonl", "in-cr.csv"])
def test_a_run_that_failed_after_some_batches_resumes_with_exactly_the_remaining_rows(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    uploads = Uploads(monkeypatch)
    expected = uninterrupted(tmp_path / "whole", name, uploads)
    assert expected["uploaded_records"] == 34 and expected["total_batches"] == 9
    uploads.fail_at = 4
    source = write_input(tmp_path, name)
    code, failed = export(tmp_path, source)
    assert (code, failed["status"], failed["uploaded_records"], uploads.batches) == (1, "FAILED", 12, 3)
    assert failed["reason"] == f"ApiError: POST {RECORDS} -> HTTP 400: refused"
    code, resumed = export(tmp_path, source)
    assert code == 0 and resumed["status"] == "SUCCEEDED", resumed["reason"]
    assert sorted(uploads.ids) == sorted(f"u{i}" for i in range(ROWS) if i % 7)  # each row once, none left out
    assert counted(resumed) == expected  # the first run's counts restored and counted on
    assert (
        resumed["audience_id"] == failed["audience_id"] and resumed["job_request_ids"][:3] == failed["job_request_ids"]
    )
    assert len(emulator_env.audience_members(resumed["audience_id"])) == 34


def test_a_stopped_run_resumes_and_a_finished_one_sends_nothing_but_reports_again(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    uploads = Uploads(monkeypatch)
    stop_after: list[int] = [2]

    def progress(settled: upload.Settled) -> None:  # SIGINT while the second batch is counted: the CLI stops
        if stop_after and uploads.batches == stop_after[0]:
            stop_after.clear()
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(cli, "_progress", progress)
    source = write_input(tmp_path, "in.csv")
    code, stopped = export(tmp_path, source)
    assert (code, stopped["status"], stopped["total_batches"], uploads.batches) == (130, "INTERRUPTED", 2, 2)
    code, resumed = export(tmp_path, source)
    assert (code, resumed["status"], resumed["uploaded_records"], uploads.batches) == (0, "SUCCEEDED", 34, 9)
    assert len(uploads.ids) == len(set(uploads.ids)) == 34
    assert resumed["already_sent_at"] is None
    capsys.readouterr()
    code, again = export(tmp_path, source)
    assert (code, again["status"], uploads.batches) == (0, "SUCCEEDED", 9)  # nothing sent
    assert counted(again) == counted(resumed) and again["job_request_ids"] == resumed["job_request_ids"]
    assert again["already_sent_at"] == stopped["started_at"]  # the run's start: the stopped one's
    printed = capsys.readouterr()
    assert (
        f"adsbridge export: {source} was already sent with these settings by the run started {stopped['started_at']}; "
        "nothing sent (--restart sends it again)"
    ) in printed.err.splitlines()
    assert f"Already sent by the run started {stopped['started_at']}: nothing sent now" in printed.out.splitlines()


def test_restart_forgets_the_saved_run_and_sends_every_row_again(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploads = Uploads(monkeypatch)
    source = write_input(tmp_path, "in.csv")
    code, first = export(tmp_path, source)
    assert code == 0 and uploads.batches == 9
    code, restarted = export(tmp_path, source, "--restart")
    assert code == 0 and uploads.batches == 18 and len(uploads.ids) == 68
    assert counted(restarted) == counted(first)
    assert restarted["audience_id"] == first["audience_id"] and restarted["reused_audience"] is True  # recorded


@pytest.mark.parametrize(
    "change",
    [
        lambda path: os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000)),
        lambda path: path.write_bytes(path.read_bytes() + b"u99,user99@example.com,,,,,,,,US\r\n"),
    ],
    ids=["touched", "appended"],
)
def test_another_version_of_the_input_or_other_settings_is_a_new_run(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: Callable[[Path], object]
) -> None:
    uploads = Uploads(monkeypatch)
    source = write_input(tmp_path, "in.csv")
    export(tmp_path, source)
    change(source)
    code, _ = export(tmp_path, source)
    assert code == 0 and uploads.batches == 18  # sent again, whole
    code, _ = export(tmp_path, source, time_to_live=2_592_000)
    assert code == 0 and uploads.batches == 27


@pytest.mark.parametrize("name", ["in.csv", "in.jsonl.gz"])
def test_an_s3_object_resumes_by_its_etag_and_another_version_is_a_new_run(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    uploads = Uploads(monkeypatch)
    uploads.fail_at = 5
    body = write_input(tmp_path, name).read_bytes()
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="drops")
        s3.put_object(Bucket="drops", Key=f"incoming/{name}", Body=body)
        code, failed = export(tmp_path, f"s3://drops/incoming/{name}")
        assert (code, failed["uploaded_records"]) == (1, 16)
        code, resumed = export(tmp_path, f"s3://drops/incoming/{name}")
        assert (code, resumed["uploaded_records"], resumed["total_records"], uploads.batches) == (0, 34, ROWS, 9)
        assert sorted(uploads.ids) == sorted(f"u{i}" for i in range(ROWS) if i % 7)
        more = (
            b'{"externaluserid": "u99", "email": "u99@example.com"}\n'
            if "json" in name
            else b"u99,u99@example.com,,,,,,,,US\r\n"
        )
        changed = body + (gzip.compress(more) if name.endswith(".gz") else more)  # gzip: a second member
        s3.put_object(Bucket="drops", Key=f"incoming/{name}", Body=changed)
        code, again = export(tmp_path, f"s3://drops/incoming/{name}")  # another ETag: a new run, sent whole
    assert (code, again["uploaded_records"], uploads.batches) == (0, 35, 18)


def replace_input(where: str, source: Path, folder: Path) -> None:
    """Put another version of the input (one row more: u99) at the S3 key or, as a new file, at the local path."""
    folder.mkdir()
    replacement = write_input(folder, "in.csv")
    replacement.write_bytes(replacement.read_bytes() + b"u99,u99@example.com,,,,,,,,US\r\n")
    if where == "s3":
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.put_object(Bucket="drops", Key="incoming/in.csv", Body=replacement.read_bytes())
    else:
        os.replace(replacement, source)  # another inode at the path, as an editor's save or a sync writes it


def input_at(where: str, source: Path) -> str:
    if where == "local":
        return str(source)
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="drops")
    s3.put_object(Bucket="drops", Key="incoming/in.csv", Body=source.read_bytes())
    return "s3://drops/incoming/in.csv"


@pytest.mark.parametrize("where", ["s3", "local"])
def test_an_input_replaced_once_opened_is_recorded_as_the_version_read(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """The version was taken after the input was opened: a file replaced in between was recorded as the new
    version with the old version's rows, and the new one, exported next, was 'already sent' (u99 never was)."""
    uploads = Uploads(monkeypatch)
    source = write_input(tmp_path, "in.csv")
    opened = job.open_input

    @contextmanager
    def then_replaced(uri: str, **kwargs: Any) -> Iterator[IO[bytes]]:
        with opened(uri, **kwargs) as stream:
            monkeypatch.setattr(job, "open_input", opened)  # once
            replace_input(where, source, tmp_path / "other")
            yield stream

    monkeypatch.setattr(job, "open_input", then_replaced)
    with mock_aws():
        uri = input_at(where, source)
        code, first = export(tmp_path, uri)
        assert (code, first["uploaded_records"], "u99" in uploads.ids) == (0, 34, False)  # the version it read
        code, second = export(tmp_path, uri)
    assert (code, second["uploaded_records"], "u99" in uploads.ids) == (0, 35, True)  # the replacement: a new run
    assert second["already_sent_at"] is None


@pytest.mark.parametrize("where", ["s3", "local"])
def test_an_input_replaced_after_its_version_was_taken_is_not_read_as_that_version(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """The input is opened pinned to the version taken (S3: IfMatch its ETag; a file: its inode, time and size):
    another one stops the run before anything is created at Amazon."""
    uploads = Uploads(monkeypatch)
    source = write_input(tmp_path, "in.csv")
    taken = resume.input_version

    def then_replaced(uri: str, s3: Any = None, **kwargs: Any) -> resume.InputVersion:
        version = taken(uri, s3, **kwargs)
        replace_input(where, source, tmp_path / "other")
        return version

    monkeypatch.setattr(resume, "input_version", then_replaced)
    with mock_aws():
        uri = input_at(where, source)
        code, report = export(tmp_path, uri)
    assert (code, report["status"], report["audience_id"], uploads.batches) == (1, "FAILED", None, 0)
    assert report["reason"] == (
        f"InputError: input: {uri} was replaced or changed after its version was taken: run the export again"
    )
    assert emulator_env.request_log() == []
