"""``adsbridge demo`` at a reduced size: its results equal the generators' truth, and a failure is one line."""

from __future__ import annotations

import argparse
import csv
import io
import os
from pathlib import Path

import pytest

from adsbridge import cli as adsbridge_cli
from adsbridge.stream import datasets
from adsbridge_sandbox import stream_v2_files
from adsbridge_sandbox.demo import audiences, cli, runner, stream_in, stream_v2_in
from adsbridge_sandbox.demo.local_aws import local_cloud
from adsbridge_sandbox.demo.progress import Progress

ROWS = 3000


def test_demo_results_equal_the_truth(tmp_path: Path) -> None:
    result = runner.demo(rows=ROWS, keep=False, workdir=tmp_path, progress=Progress(io.StringIO()), out=io.StringIO())
    stream = result.stream
    assert stream.failed == 0
    assert [s.dataset_id for s in stream.subscriptions] == list(stream_in.STREAMED)
    for trail in stream.subscriptions:  # subscribed, confirmed by the ingest handler through the queue, archived
        assert trail.statuses == ("PENDING_CONFIRMATION", "ACTIVE", "ARCHIVED"), trail
    for dataset_id in ("sp-traffic", "sp-conversion", "sd-traffic"):
        assert stream_in.hourly_matches_truth(stream, datasets.get(dataset_id)), dataset_id
    assert stream_in.campaign_states(stream.con) == stream.stream.latest_states(datasets.get("campaigns"))
    budgets = stream_in.budget_usage(stream.con)
    assert budgets and budgets == stream.stream.latest_budget_usage(datasets.get("budget-usage"))
    assert result.stream_v2 is not None and stream_v2_in.views_match_truth(result.stream_v2)  # both by default

    created, deleted = result.audiences.created.report, result.audiences.deleted.report
    assert created.total_records == ROWS and created.skipped_by_reason["missing_external_user_id"] > 0
    # audience sizes equal what the generator knows is exportable (intact rows outside the UK/EEA)
    customers, leaving = result.audiences.customers, result.audiences.leaving
    assert result.audiences.size_after_create == created.uploaded_records == customers.exportable > 0
    assert created.skipped_records == customers.broken + customers.uk_eea
    assert deleted.total_records == ROWS // 4 and deleted.uploaded_records == leaving.exportable
    assert result.audiences.size_after_delete == customers.exportable - leaving.exportable
    # the functions' log (CloudWatch Logs in AWS) has both reports and none of the customers' PII
    log = (tmp_path / audiences.FUNCTION_LOG).read_text()
    assert log.count('"message":"export report"') == 2
    with (tmp_path / "customers.csv").open(newline="") as customers:
        pii = [value.strip() for row in csv.DictReader(customers) for value in (row["email"], row["lastname"])]
    leaked = [value for value in pii if len(value) > 5 and value in log]
    assert not leaked, leaked[:3]


def test_a_failure_exits_non_zero_with_a_one_line_reason(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.run(argparse.Namespace(rows=10, keep=False, workdir=None, stream="both"))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err[-1] == "demo failed: ValueError: --rows must be at least 100"


def test_a_failed_execution_stops_the_demo_with_the_reports_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audiences, "SETTINGS", {**audiences.SETTINGS, "max_wait_time": 5000})
    with local_cloud(pending_seconds=0.1) as cloud, pytest.raises(audiences.DemoFailure) as failure:
        audiences.run_audiences(cloud, tmp_path, 200, Progress(io.StringIO()))
    assert "job demo ended FAILED/FAILED" in str(failure.value) and "max_wait_time" in str(failure.value)


def test_what_keep_prints_lets_another_shell_use_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    with local_cloud(pending_seconds=0.1) as cloud:
        shell = cloud.cli_environment()
        for name in [n for n in os.environ if n.startswith(("AWS_", "ADSBRIDGE_"))]:
            del os.environ[name]  # local_cloud restores the environment on exit
        os.environ.update(shell)
        assert adsbridge_cli.main(["streams", "list", "--realm", "NA", "--profile", stream_in.PROFILE.id]) == 0
    assert capsys.readouterr().out == "no subscriptions\n"  # signed in to the emulator's sandbox account


def test_the_v2_stream_alone_catalogues_every_file_and_resolves_the_restated_hour(tmp_path: Path) -> None:
    out = io.StringIO()
    result = runner.demo(rows=200, keep=False, workdir=tmp_path, progress=Progress(io.StringIO()), out=out, stream="v2")
    v2 = result.stream_v2
    assert result.stream is None and v2 is not None
    assert v2.failed == 0 and v2.statuses == ("ACTIVE", "ARCHIVED")
    assert len(v2.delivery.files) == stream_v2_in.HISTORY_DAYS * 24 + stream_v2_in.LIVE_HOURS + 2
    assert v2.partitions == stream_v2_in.HISTORY_DAYS * 24 + stream_v2_in.LIVE_HOURS  # restatements: same hour
    assert v2.added_columns == tuple(stream_v2_files.GROWN)  # the grown file's column, from its footer
    assert stream_v2_in.views_match_truth(v2)
    header, rows = stream_v2_in.restated_hour(v2)
    first, last_in, view, truth = (header.index(h) for h in ("first", "last in", "view", "truth"))
    assert len(rows) == stream_v2_in.PLAN.advertisers * stream_v2_in.PLAN.campaigns
    assert all(row[view] == row[truth] for row in rows)
    assert all(row[first] < row[last_in] < row[view] for row in rows)  # the last to land was not the answer
    assert "== Stream v2" in out.getvalue() and "detailpageviews" in out.getvalue()


@pytest.mark.parametrize(("argv", "stream"), [([], "both"), (["--stream", "v1"], "v1"), (["--stream", "v2"], "v2")])
def test_the_stream_option_defaults_to_both(argv: list[str], stream: str) -> None:
    parser = argparse.ArgumentParser()
    cli.add_parser(parser.add_subparsers())
    assert parser.parse_args(["demo", *argv]).stream == stream
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--stream", "v3"])


def test_an_unknown_stream_fails_before_anything_starts() -> None:
    with pytest.raises(ValueError, match="--stream must be one of v1, v2, both"):
        runner.demo(rows=200, keep=False, workdir=None, progress=Progress(io.StringIO()), out=io.StringIO(), stream="x")


class _Queue:
    """An SQS client's ``receive_message`` over a number of waiting messages, counting the calls."""

    def __init__(self, messages: int) -> None:
        self.waiting = [{"MessageId": str(i)} for i in range(messages)]
        self.receives = 0

    def receive_message(self, **kwargs: object) -> dict[str, object]:
        self.receives += 1
        count = int(str(kwargs["MaxNumberOfMessages"]))
        got, self.waiting = self.waiting[:count], self.waiting[count:]
        return {"Messages": got} if got else {}


@pytest.mark.parametrize(("expected", "receives"), [(None, 4), (25, 3)])
def test_the_poller_ends_a_pass_at_the_messages_it_was_told_of_without_an_empty_receive(
    expected: int | None, receives: int
) -> None:
    queue = _Queue(25)
    assert [len(batch) for batch in stream_in._batches(queue, "queue-url", expected)] == [25]
    assert queue.receives == receives
