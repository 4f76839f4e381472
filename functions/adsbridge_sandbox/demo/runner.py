"""The demo from start to finish: servers up, Stream in (v1, v2 or both), Audiences out, results, summary; one-line
failures."""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from adsbridge_sandbox.demo import stream_v2_in
from adsbridge_sandbox.demo.audiences import FUNCTION_LOG, MACHINE, STATE_BUCKET, AudiencesResult, run_audiences
from adsbridge_sandbox.demo.cli import STREAMS
from adsbridge_sandbox.demo.local_aws import LocalCloud, local_cloud
from adsbridge_sandbox.demo.progress import Progress
from adsbridge_sandbox.demo.stream_in import (
    PROFILE,
    REALM,
    StreamResult,
    budget_usage,
    campaign_states,
    performance_rows,
    run_stream,
)

PENDING_SECONDS = 0.5  # how long the emulator keeps an upload job IN_PROGRESS
STREAM_SHARE = 6  # one stream message per this many customers (5,000 for the default 30,000); see stream_in.POLL_EVERY


@dataclass(frozen=True)
class DemoResult:
    stream: StreamResult | None  # None when --stream v2
    stream_v2: stream_v2_in.V2Result | None  # None when --stream v1
    audiences: AudiencesResult
    workdir: Path
    seconds: float


def main(*, rows: int, keep: bool, workdir: Path | None, out: TextIO | None = None, stream: str = "both") -> int:
    """Exit 0 after a full run; 1 with ``demo failed: <reason>`` on stderr when any step fails."""
    progress = Progress()
    try:
        result = demo(rows=rows, keep=keep, workdir=workdir, progress=progress, out=out or sys.stdout, stream=stream)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # any failure ends the demo with its reason, never a traceback
        reason = " ".join(str(exc).split()) or type(exc).__name__
        print(f"demo failed: {type(exc).__name__}: {reason}", file=sys.stderr)
        return 1
    progress.step(f"Done in {result.seconds:.1f}s")
    return 0


def demo(
    *, rows: int, keep: bool, workdir: Path | None, progress: Progress, out: TextIO, stream: str = "both"
) -> DemoResult:
    if rows < 100:
        raise ValueError("--rows must be at least 100")
    if stream not in STREAMS:
        raise ValueError(f"--stream must be one of {', '.join(STREAMS)}")
    started = time.monotonic()
    workdir = workdir or Path(tempfile.mkdtemp(prefix="adsbridge-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    progress.step("Starting moto (AWS) and the Ads API emulator (Amazon) on loopback")
    with local_cloud(pending_seconds=PENDING_SECONDS, realm=REALM, v2_options=stream_v2_in.OPTIONS) as cloud:
        progress.step(f"AWS endpoint {cloud.aws_url}, Ads API {cloud.emulator.url}")
        v1 = v2 = None
        if stream != "v2":
            v1 = run_stream(cloud, workdir, max(rows // STREAM_SHARE, 200), progress)
            print_stream(v1, out)
        if stream != "v1":
            v2 = stream_v2_in.run_stream_v2(cloud, workdir, progress, v1.con if v1 else None)
            print_stream_v2(v2, out)
        audiences = run_audiences(cloud, workdir, rows, progress)
        print_audiences(audiences, out)
        result = DemoResult(v1, v2, audiences, workdir, time.monotonic() - started)
        print_summary(result, cloud, out)
        if keep:
            wait_for_exploration(cloud, progress)
    return result


def print_stream(result: StreamResult, out: TextIO) -> None:
    header, rows = performance_rows(result.con, 10)
    out.write("\n== Stream in: SP performance, de-duplicated, busiest campaign-hours (DuckDB, the views' SQL) ==\n")
    out.write("".join(f"{h:>12}" for h in header) + "\n")
    for row in rows:
        out.write("".join(f"{v:>12.2f}" if isinstance(v, float) else f"{v!s:>12}" for v in row) + "\n")
    states = campaign_states(result.con)
    out.write("\nLatest campaign states: " + ", ".join(f"{c}={s}" for c, s in states.items()) + "\n")
    out.write("\nLatest budget usage per budget scope (the budget_usage_latest view):\n")
    out.write("".join(f"{h:>12}" for h in ("scope_type", "scope_id", "budget", "usage_%")) + "  updated_at\n")
    for (_, _, scope_type, scope_id), (budget, percentage, updated) in budget_usage(result.con).items():
        out.write(f"{scope_type:>12}{scope_id:>12}{budget:>12.2f}{percentage:>12.2f}  {updated}\n")


def print_stream_v2(result: stream_v2_in.V2Result, out: TextIO) -> None:
    header, rows = stream_v2_in.restated_hour(result)
    out.write(
        "\n== Stream v2: Parquet files → catalog handler → DuckDB, the v2 views' SQL: the restated hour ==\n"
        "clicks per campaign as first delivered, in the restatement that landed last (an older version), and in "
        "the hourly view (the highest streamBatch.version per record), beside the truth\n"
    )
    out.write("".join(f"{h:>12}" for h in header) + "\n")
    for row in rows:
        out.write("".join(f"{v:>12.2f}" if isinstance(v, float) else f"{v!s:>12}" for v in row) + "\n")
    grown = ", ".join(result.added_columns) or "none"
    out.write(
        f"\nColumns the catalog added from the files' footers: {grown}; partitions registered: {result.partitions}\n"
    )


def print_audiences(result: AudiencesResult, out: TextIO) -> None:
    out.write("\n== Audiences out: CREATE/APPEND ==\n" + result.created.report.render_text() + "\n")
    out.write(f"Emulator audience size: {result.size_after_create:,}\n")
    out.write(
        "\n== Audiences out: UPDATE/DELETE of the first quarter ==\n" + result.deleted.report.render_text() + "\n"
    )
    out.write(f"Emulator audience size: {result.size_after_delete:,}\n")


def print_summary(result: DemoResult, cloud: LocalCloud, out: TextIO) -> None:
    audiences = result.audiences
    out.write(
        "\n== Summary ==\n"
        + _stream_summary(result.stream)
        + _stream_v2_summary(result.stream_v2)
        + f"Audiences out: {audiences.created.report.total_records:,} rows → "
        f"{audiences.created.report.uploaded_records:,} uploaded, "
        f"{audiences.created.report.skipped_records:,} skipped; DELETE removed "
        f"{audiences.size_after_create - audiences.size_after_delete:,}; audience now {audiences.size_after_delete:,}\n"
        f"Executions:    {audiences.created.execution} ({audiences.created.seconds:.1f}s), "
        f"{audiences.deleted.execution} ({audiences.deleted.seconds:.1f}s) of state machine {MACHINE}\n"
        f"Files:         {result.workdir} (customers, raw stream objects, the functions' log {FUNCTION_LOG}); "
        f"reports s3://{STATE_BUCKET}/{audiences.created.report_key}, …/{audiences.deleted.report_key}\n"
        f"Took:          {result.seconds:.1f}s\n"
    )


def _stream_summary(stream: StreamResult | None) -> str:
    if stream is None:
        return ""
    return (
        f"Stream in:     {len(stream.stream.deliveries):,} messages → ingest handler → "
        f"s3://adsbridge-demo-stream-raw → DuckDB views ({stream.failed} batch item failures)\n"
        f"Subscriptions: {len(stream.subscriptions)} × "
        f"{' → '.join(stream.subscriptions[0].statuses) if stream.subscriptions else 'none'}\n"
    )


def _stream_v2_summary(v2: stream_v2_in.V2Result | None) -> str:
    if v2 is None:
        return ""
    return (
        f"Stream v2 in:  {len(v2.delivery.files):,} Parquet files and notifications → catalog handler → Glue "
        f"{stream_v2_in.DATABASE} ({v2.partitions} partitions) → DuckDB v2 views ({v2.failed} batch item failures); "
        f"subscription {' → '.join(v2.statuses)}\n"
    )


def wait_for_exploration(cloud: LocalCloud, progress: Progress) -> None:
    """Keep both servers up until Ctrl-C, saying how to reach them from another shell."""
    exports = " ".join(f"{name}='{value}'" for name, value in cloud.cli_environment().items())
    progress.step(
        "Servers kept running; Ctrl-C here stops them. In another shell:\n"
        f"  export {exports}\n"
        f"  adsbridge streams list --realm {REALM} --profile {PROFILE.id}\n"
        f"  adsbridge streams v2 list --realm {REALM} --account {stream_v2_in.ACCOUNT}\n"
        f"  aws s3 ls --recursive s3://{STATE_BUCKET}/reports/   # AWS CLI v2 or any boto3 client\n"
        "  aws stepfunctions list-executions --state-machine-arn "
        "$(aws stepfunctions list-state-machines --query 'stateMachines[0].stateMachineArn' --output text)"
    )
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        progress.step("Stopping the servers")
