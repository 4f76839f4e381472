"""``adsbridge export``'s ending: exit codes, the one stderr line, a second signal, and what a stop or a bug
does to a run. (The CLI against the emulator, signals included, is in tests/integration/export.)
"""

from __future__ import annotations

import argparse
import json
import signal
from pathlib import Path
from typing import Any, cast

import pytest

from adsbridge.ads.audiences import AudiencesClient
from adsbridge.export.cli import ArgumentError, StopOnSignals, check_arguments, finish
from adsbridge.export.job import ExportRun, Interrupted, RunOptions, Stop
from adsbridge.settings import parse_settings

ROOT = Path(__file__).resolve().parents[3]


def settings(**changes: Any) -> Any:
    data = json.loads((ROOT / "samples/settings.json").read_text())
    data.update(changes)
    return parse_settings(data)


class Unusable:
    """A client for runs that must not reach Amazon, or whose every call hits a bug quoting a row."""

    def __getattr__(self, name: str) -> Any:
        def call(*_: Any, **__: Any) -> Any:
            raise RuntimeError("row 7: jim@example.com")

        return call


def run_with_batches(audience_id: int = 361054992504331123) -> ExportRun:
    """A CREATE run that has created its audience and had one batch accepted."""
    job = ExportRun(settings(), "in.csv", cast(AudiencesClient, Unusable()))
    job.audience_id = audience_id
    job.counters.job_request_ids.append("job-1")
    job.counters.total_batches = 1
    job.counters.uploaded_records = job.counters.total_records = 6_000
    return job


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("status", "signum", "code"),
    [("SUCCEEDED", None, 0), ("UPLOADED", None, 0), ("PARTIALLY_SUCCEEDED", None, 0), ("FAILED", None, 1),
     ("TIMED_OUT", None, 1), ("INTERRUPTED", signal.SIGINT, 130), ("INTERRUPTED", signal.SIGTERM, 143)],
)  # fmt: skip
def test_the_exit_code_says_how_the_job_ended(
    status: str, signum: int | None, code: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = run_with_batches().report(status, None if code == 0 else "why")
    assert finish(report, argparse.Namespace(report_json=str(tmp_path / "r.json")), signum) == code
    err = capsys.readouterr().err
    if code:
        assert one_line(err).startswith(f"adsbridge export: {status}: why (audience 361054992504331123 exists with")
    else:
        assert err == ""


def test_a_report_that_cannot_be_written_at_the_end_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = run_with_batches().report("SUCCEEDED", None)
    code = finish(report, argparse.Namespace(report_json=str(tmp_path / "gone" / "r.json")), None)
    captured = capsys.readouterr()
    assert code == 1 and "Audience ID: 361054992504331123" in captured.out
    assert one_line(captured.err).startswith("adsbridge export: cannot write --report-json: ")


def test_a_second_signal_abandons_the_request_in_flight_and_exits_with_the_report_so_far(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = run_with_batches()
    exits: list[int] = []
    args = argparse.Namespace(report_json=str(tmp_path / "r.json"))
    with StopOnSignals(job, args, exit_now=exits.append) as signals:
        signal.raise_signal(signal.SIGINT)
        assert (signals.signum, job.options.stop.reason, exits) == (signal.SIGINT, "interrupted by SIGINT", [])
        signal.raise_signal(signal.SIGTERM)
    assert exits == [130]
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["status"] == "INTERRUPTED" and report["job_request_ids"] == ["job-1"]
    assert report["reason"].startswith("interrupted by SIGINT, then SIGTERM abandoned the request in flight")
    assert one_line(capsys.readouterr().err).startswith("adsbridge export: INTERRUPTED: interrupted by SIGINT, then")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


@pytest.mark.parametrize("interval", ["0", "-1", "nan", "inf", "3601"])
def test_a_poll_interval_that_cannot_work_is_refused(interval: str) -> None:
    with pytest.raises(ArgumentError, match=r"^--poll-interval: "):
        check_arguments(argparse.Namespace(poll_interval=float(interval), report_json=None))


def test_a_bug_ends_in_a_failure_report_naming_only_its_type(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("externaluserid,email\nu1,jim@example.com\n")
    report = ExportRun(settings(), str(path), cast(AudiencesClient, Unusable())).run()
    assert (report.status, report.reason) == (
        "FAILED",
        "unexpected RuntimeError (a bug in adsbridge: please report it)",
    )


def test_a_stop_before_the_audience_is_created_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("externaluserid,email\nu1,jim@example.com\n")
    options = RunOptions()
    options.stop.request("interrupted by SIGTERM")
    report = ExportRun(settings(), str(path), cast(AudiencesClient, Unusable()), options).run()
    assert (report.status, report.reason, report.audience_id) == ("INTERRUPTED", "interrupted by SIGTERM", None)


def test_a_stop_during_a_sleep_ends_it_at_the_next_slice() -> None:
    stop, slept = Stop(), []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 2:
            stop.request("interrupted by SIGINT")

    with pytest.raises(Interrupted, match=r"^interrupted by SIGINT$"):
        stop.sleep(30, sleep)
    assert slept == [Stop.SLICE_SECONDS] * 2


def export_args(tmp_path: Path, *extra: str) -> argparse.Namespace:
    """``adsbridge export``'s own parser (not the whole CLI's), as the command line gives it arguments."""
    from adsbridge.export import cli as export_cli

    parser = argparse.ArgumentParser(prog="adsbridge")
    export_cli.add_parser(parser.add_subparsers())
    settings_path = tmp_path / "settings.json"
    settings_path.write_text((ROOT / "samples/settings.json").read_text())
    source = str(ROOT / "samples/customers.csv")
    return parser.parse_args(["export", "--settings", str(settings_path), "--input", source, *extra])


@pytest.mark.parametrize("interval", ["abc", "", "0x10", "1,5"])
def test_a_poll_interval_that_is_no_number_is_one_line_and_exit_2(
    interval: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """argparse's own refusal prints its usage too (4 lines): the CLI's one-line rule holds for every value."""
    from adsbridge.export.cli import run

    try:
        code = run(export_args(tmp_path, "--poll-interval", interval))
    except SystemExit as exc:  # argparse refused it
        code = int(exc.code or 0)
    assert code == 2
    assert one_line(capsys.readouterr().err).startswith("adsbridge export: --poll-interval: must be seconds")


def test_a_report_path_naming_a_directory_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    """``out/`` asks for a directory: the report would be written as a file called ``out``."""
    with pytest.raises(ArgumentError, match=r"^--report-json: "):
        check_arguments(argparse.Namespace(poll_interval=1.0, report_json=str(tmp_path / "out") + "/"))


def test_a_reason_spanning_lines_ends_in_one_stderr_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """botocore's parameter errors (a bad bucket name) span lines: stderr still holds exactly one."""
    report = run_with_batches().report("FAILED", "input: cannot read s3://B!/k: Parameter validation failed:\nInvalid")
    assert finish(report, argparse.Namespace(report_json=None), None) == 1
    assert one_line(capsys.readouterr().err).startswith("adsbridge export: FAILED: input: cannot read s3://B!/k")


@pytest.mark.parametrize(
    "when", ["importing the client", "loading settings", "loading settings, the signal's exception lost"]
)
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["INT", "TERM"])
def test_a_signal_before_the_job_starts_is_one_line_and_its_exit_status(
    signum: int,
    code: int,
    when: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Importing requests and pydantic, loading settings and the HTTP client take most of a second: a signal then
    is no traceback (SIGINT) nor a silent death (SIGTERM), and nothing is sent."""
    import builtins

    import adsbridge.settings
    from adsbridge.export.cli import run

    real_load, real_import = adsbridge.settings.load_settings, builtins.__import__

    def load_then_signal(path: str) -> Any:
        loaded = real_load(path)
        try:
            signal.raise_signal(signum)
        except BaseException:
            if when != "loading settings, the signal's exception lost":  # as C code that clears errors loses it
                raise
        return loaded

    def import_then_signal(name: str, *rest: Any, **kwargs: Any) -> Any:
        module = real_import(name, *rest, **kwargs)
        if name == "adsbridge.ads":
            signal.raise_signal(signum)
        return module

    if when.startswith("loading settings"):
        monkeypatch.setattr(adsbridge.settings, "load_settings", load_then_signal)
    else:
        monkeypatch.setattr(builtins, "__import__", import_then_signal)
    try:
        result = run(export_args(tmp_path, "--report-json", str(tmp_path / "r.json")))
    except KeyboardInterrupt:
        pytest.fail("SIGINT before the job started ended in KeyboardInterrupt (a traceback)")
    assert result == code
    name = signal.Signals(signum).name
    assert (
        one_line(capsys.readouterr().err)
        == f"adsbridge export: INTERRUPTED: interrupted by {name} before anything was sent"
    )
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


def test_a_closed_stdout_still_leaves_the_report_file_and_one_line_naming_the_audience(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``adsbridge export … | head`` closes stdout early: printing the report failed before the report file was
    written, and the CLI ended in silence, the id of the audience it created nowhere."""
    import os
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)
    with os.fdopen(write_end, "w") as closed:
        monkeypatch.setattr(sys, "stdout", closed)
        report = run_with_batches().report("SUCCEEDED", None)
        code = finish(report, argparse.Namespace(report_json=str(tmp_path / "r.json")), None)
        monkeypatch.undo()
    assert json.loads((tmp_path / "r.json").read_text())["audience_id"] == 361054992504331123
    assert code == 1
    assert one_line(capsys.readouterr().err) == (
        "adsbridge export: cannot print the report: stdout was closed (audience 361054992504331123)"
    )


@pytest.mark.parametrize(
    ("query", "again"),
    [
        (None, "running it again on the same input resumes after the last batch accepted (--restart sends all)"),
        ("SELECT 1", "running it again runs the query again and sends every row of its result"),
    ],
)
def test_a_failure_line_says_what_running_again_does(
    query: str | None, again: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A query's result is a new object each run: never resumed, and the line does not promise it."""
    report = run_with_batches().report("FAILED", "ApiError: POST /amc/audiences/records -> HTTP 400: refused")
    assert finish(report, argparse.Namespace(report_json=None, query=query), None) == 1
    line = one_line(capsys.readouterr().err)
    assert f"6000 record(s) accepted and is recorded for this job: {again}; every run of this job adds" in line


def test_a_run_held_by_another_export_is_not_promised_a_resume(capsys: pytest.CaptureFixture[str]) -> None:
    """Running again while the other process sends would fail the same way: the line says who holds the run."""
    held = "RunInProgress: run r1 is already being exported by another adsbridge export"
    report = run_with_batches().report("FAILED", held)
    assert finish(report, argparse.Namespace(report_json=None, query=None), None) == 1
    line = one_line(capsys.readouterr().err)
    assert line == (
        f"adsbridge export: FAILED: {held} (nothing sent by this one: another adsbridge export holds this run;"
        " let it finish, or stop it first)"
    )
    assert "resumes" not in line
