"""``adsbridge export`` when things go wrong mid-run: signals, damaged input, unreadable S3 objects, bad
arguments and hostile headers. Each ends in one line on stderr naming the reason, never a traceback, and once
an audience exists, in a report that names it and counts what Amazon accepted.

Signals are sent to the real CLI, run as a subprocess against the emulator.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from tests.integration.export.test_export_job import SAMPLE, export, write_rows, write_settings

from adsbridge_sandbox.emulator import Emulator, Faults

RECORDS = "/amc/audiences/records"
WAIT_SECONDS = 60.0  # how long a test waits for the CLI to reach a point before it gives up


def user_rows(n: int) -> list[list[str]]:
    return [[f"u{i}", f"user{i}@example.com", "", "", "", "", "", "", "", "US"] for i in range(n)]


def one_line(err: str) -> str:
    """stderr holds exactly one line (no traceback): that line."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"the CLI never reached {what}: exit {proc.returncode}\n{out}\n{err}")
        time.sleep(0.01)


def received(emulator: Emulator, report: dict[str, Any]) -> int:
    """Records Amazon received in the report's jobs, once the emulator settled them (the ground truth)."""
    deadline = time.monotonic() + WAIT_SECONDS
    jobs = [emulator.job(job_id) for job_id in report["job_request_ids"]]
    while any(job["jobState"] == "PENDING" for job in jobs) and time.monotonic() < deadline:
        time.sleep(0.02)
        jobs = [emulator.job(job_id) for job_id in report["job_request_ids"]]
    return sum(job["audienceSize"]["receivedRecordSize"] for job in jobs)


def accepted_posts(emulator: Emulator) -> int:
    """Batches of records the emulator accepted (each got a jobRequestId)."""
    return sum(1 for r in emulator.request_log() if (r.method, r.path) == ("POST", RECORDS) and 200 <= r.status < 300)


@pytest.fixture
def start_cli(emulator_env: Emulator, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start ``adsbridge export`` as a process of its own (signals go to it, not to pytest)."""
    started: list[subprocess.Popen[str]] = []

    def start(source: Path, **changes: Any) -> subprocess.Popen[str]:
        args = ["export", "--settings", write_settings(tmp_path, **changes), "--input", str(source),
                "--report-json", str(tmp_path / "report.json"), "--poll-interval", "0.05"]  # fmt: skip
        proc = subprocess.Popen(
            [sys.executable, "-m", "adsbridge.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


class Hold(Faults):
    """The emulator's faults, plus: the ``nth`` POST to ``path`` is held (in flight) until ``release`` is set."""

    def __init__(self, path: str, nth: int) -> None:
        super().__init__()
        self.path = path
        self.nth = nth
        self.posts = 0
        self.holding = threading.Event()
        self.release = threading.Event()

    def take(self, path: str) -> Any:
        if path == self.path:
            self.posts += 1  # one request at a time: the CLI has one request to this path in flight
            if self.posts == self.nth:
                self.holding.set()
                self.release.wait(WAIT_SECONDS)
        return super().take(path)


SIGNALS = pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["INT", "TERM"]
)


@SIGNALS
def test_a_signal_mid_upload_finishes_the_batch_in_flight_then_reports_interrupted(
    emulator_env: Emulator,
    tmp_path: Path,
    start_cli: Callable[..., subprocess.Popen[str]],
    signum: signal.Signals,
    code: int,
) -> None:
    hold = Hold(RECORDS, nth=2)
    emulator_env.faults = hold
    proc = start_cli(write_rows(tmp_path / "in.csv", user_rows(12_001)))  # batches of 6,000, 6,000 and 1
    wait_for(hold.holding.is_set, proc, "its second batch")
    proc.send_signal(signum)
    hold.release.set()
    out, err = proc.communicate(timeout=WAIT_SECONDS)
    assert proc.returncode == code, err
    report = json.loads((tmp_path / "report.json").read_text())
    assert (report["status"], report["reason"]) == ("INTERRUPTED", f"interrupted by {signum.name}")
    audience_id = report["audience_id"]
    assert audience_id is not None and f"Audience ID: {audience_id}" in out
    # the batch in flight was finished and counted; nothing was sent after it
    assert hold.posts == accepted_posts(emulator_env) == report["total_batches"] == len(report["job_request_ids"]) == 2
    assert report["uploaded_records"] == 12_000 == received(emulator_env, report)
    line = one_line(err)
    assert line.startswith(f"adsbridge export: INTERRUPTED: interrupted by {signum.name}")
    assert f'"audience_id": {audience_id}' in line  # how to go on without creating a second audience


def test_a_signal_while_the_audience_is_created_reports_its_id_and_sends_no_records(
    emulator_env: Emulator, tmp_path: Path, start_cli: Callable[..., subprocess.Popen[str]]
) -> None:
    hold = Hold("/amc/audiences/metadata", nth=1)
    emulator_env.faults = hold
    proc = start_cli(SAMPLE)
    wait_for(hold.holding.is_set, proc, "creating the audience")
    proc.send_signal(signal.SIGINT)
    hold.release.set()
    out, err = proc.communicate(timeout=WAIT_SECONDS)
    assert proc.returncode == 130, err
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "INTERRUPTED" and report["total_records"] == 0
    assert emulator_env.audience(report["audience_id"])["audienceId"] == report["audience_id"]  # Amazon has it
    assert f"Audience ID: {report['audience_id']}" in out
    assert accepted_posts(emulator_env) == 0
    assert f'"audience_id": {report["audience_id"]}' in one_line(err)


@SIGNALS
def test_a_signal_mid_poll_reports_interrupted_with_the_jobs_submitted(
    emulator_env: Emulator,
    tmp_path: Path,
    start_cli: Callable[..., subprocess.Popen[str]],
    signum: signal.Signals,
    code: int,
) -> None:
    emulator_env.state.pending_seconds = 3600  # Amazon is slow: the CLI keeps polling
    proc = start_cli(SAMPLE)

    def polled() -> bool:
        return any(r.method == "GET" and r.path.startswith(RECORDS + "/") for r in emulator_env.request_log())

    wait_for(polled, proc, "polling")
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=WAIT_SECONDS)
    assert proc.returncode == code, err
    report = json.loads((tmp_path / "report.json").read_text())
    assert (report["status"], report["reason"]) == ("INTERRUPTED", f"interrupted by {signum.name}")
    assert report["uploaded_records"] == 18 and f"Audience ID: {report['audience_id']}" in out
    assert accepted_posts(emulator_env) == len(report["job_request_ids"]) == 1
    assert emulator_env.job(report["job_request_ids"][0])["jobState"] == "PENDING"  # Amazon has it, still busy
    assert one_line(err).startswith(f"adsbridge export: INTERRUPTED: interrupted by {signum.name}")


def test_a_truncated_gzip_uploads_the_rows_before_the_damage_then_fails_naming_it(
    emulator_env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = write_rows(tmp_path / "in.csv", user_rows(20_000)).read_bytes()
    data = gzip.compress(plain)
    path = tmp_path / "in.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    code, report = export(tmp_path, path)
    assert code == 1 and report["status"] == "FAILED"
    assert (
        report["reason"] == f"InputError: input: {path} is a truncated gzip file (it ends before the gzip end marker)"
    )
    assert 6_000 < report["uploaded_records"] == received(emulator_env, report) < 20_000  # every row before the damage
    assert accepted_posts(emulator_env) == report["total_batches"] == 2
    assert report["total_records"] == report["uploaded_records"] + report["skipped_records"]
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"adsbridge export: FAILED: {report['reason']} (audience {report['audience_id']} exists")


@pytest.fixture
def s3_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's S3 as a server, reached the way the CLI reaches AWS: boto3 and the environment."""
    server = ThreadedMotoServer(port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # credentials found by another test are not kept
    yield url
    server.stop()


def test_an_s3_key_that_does_not_exist_fails_in_one_line_before_any_audience(
    emulator_env: Emulator,
    s3_server: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    boto3.client("s3").create_bucket(Bucket="drops")
    code, report = export(tmp_path, "s3://drops/incoming/customers.csv")
    assert code == 1 and report["audience_id"] is None
    assert report["reason"].startswith("InputError: input: cannot read s3://drops/incoming/customers.csv: NoSuchKey (")
    assert one_line(capsys.readouterr().err) == f"adsbridge export: FAILED: {report['reason']}"
    assert not [r for r in emulator_env.request_log() if r.path.startswith("/amc")]


def test_no_aws_credentials_fails_in_one_line_before_any_audience(
    emulator_env: Emulator,
    s3_server: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, report = export(tmp_path, "s3://drops/incoming/customers.csv")
    assert code == 1 and report["audience_id"] is None
    assert report["reason"] == (
        "InputError: input: cannot read s3://drops/incoming/customers.csv: Unable to locate credentials"
    )
    assert one_line(capsys.readouterr().err) == f"adsbridge export: FAILED: {report['reason']}"
    assert not [r for r in emulator_env.request_log() if r.path.startswith("/amc")]


@pytest.mark.parametrize(
    ("argument", "named"),
    [
        (["--poll-interval", "0"], "--poll-interval"),
        (["--poll-interval", "-5"], "--poll-interval"),
        (["--poll-interval", "nan"], "--poll-interval"),
        (["--report-json", "."], "--report-json: . is a directory"),
        (["--report-json", "missing/dir/report.json"], "--report-json: directory missing/dir does not exist"),
    ],
)
def test_arguments_that_cannot_work_fail_before_any_request(
    emulator_env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], argument: list[str], named: str
) -> None:
    from adsbridge.cli import main

    code = main(["export", "--settings", write_settings(tmp_path), "--input", str(SAMPLE), *argument])
    assert code == 2
    assert one_line(capsys.readouterr().err).startswith(f"adsbridge export: {named}")
    assert emulator_env.request_log() == []


def test_a_header_naming_a_column_twice_fails_before_any_audience(emulator_env: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    path.write_text("externalUserId,Email,phone,email \nu1,a@example.com,,b@example.com\n")
    code, report = export(tmp_path, path)
    assert code == 1 and report["audience_id"] is None
    assert report["reason"] == "InputError: input: the header names column email twice (columns 2 and 4)"
    assert not [r for r in emulator_env.request_log() if r.path.startswith("/amc")]


def test_a_headerless_file_is_refused_without_quoting_its_first_line(
    emulator_env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "headerless.csv"
    path.write_text("Jim,Lee,Seattle,WA\nAnn,Ray,Boston,MA\n")
    code, report = export(tmp_path, path)
    captured = capsys.readouterr()
    assert code == 1 and "is the header row missing?" in report["reason"]
    for text in (captured.out, captured.err, json.dumps(report)):
        assert "jim" not in text.lower() and "seattle" not in text.lower()


def test_a_row_with_a_nul_byte_is_one_skip_not_an_upload(emulator_env: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(b"externaluserid,email,countrycode\nu1,a@x.com,US\nu2,b\x00@x.com,US\nu3,c@x.com,US\n")
    code, report = export(tmp_path, path)
    assert code == 0 and report["skipped_by_reason"] == {"malformed_row": 1}
    assert report["uploaded_records"] == 2 == received(emulator_env, report)
