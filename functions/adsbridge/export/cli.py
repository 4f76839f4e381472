"""``adsbridge export``: one export job, synchronously, with the same code the Lambdas run."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adsbridge.export.upload import Settled

FAILED_STATUSES = frozenset({"FAILED", "TIMED_OUT"})


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "export",
        help="run one audience export job (settings use Treasure Data's result_settings names)",
        description="Credentials come from ADSBRIDGE_CLIENT_ID, ADSBRIDGE_CLIENT_SECRET and ADSBRIDGE_REFRESH_TOKEN; "
        "ADSBRIDGE_API_URL / ADSBRIDGE_TOKEN_URL override Amazon's hosts (e.g. to use `adsbridge emulator`).",
    )
    parser.add_argument("--settings", required=True, help="settings JSON file")
    parser.add_argument("--input", required=True, help="CSV or JSON lines (optionally .gz): a path or s3://bucket/key")
    parser.add_argument("--report-json", help="also write the report as JSON to this file")
    parser.add_argument("--poll-interval", type=float, default=30.0, help="seconds between job status polls")
    parser.add_argument(
        "--accept-terms", action="store_true", help="accept the AMC terms on behalf of the authorising user if needed"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # imported here so that other subcommands (``hash``) start without loading requests and pydantic
    from adsbridge.ads import AdsError, audiences_client
    from adsbridge.export.job import RunOptions, run_export
    from adsbridge.settings import SettingsError, load_settings

    try:
        settings = load_settings(args.settings)
        client = audiences_client(settings.region)
    except (SettingsError, AdsError) as exc:
        print(f"adsbridge export: {exc}", file=sys.stderr)
        return 2
    options = RunOptions(poll_interval=args.poll_interval, accept_terms=args.accept_terms, on_batch=_progress)
    report = run_export(settings, args.input, client, options)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(report.render_text())
    if args.report_json:
        report.write_json(args.report_json)
    if report.status in FAILED_STATUSES:
        print(f"adsbridge export: {report.status}: {report.reason}", file=sys.stderr)
        return 1
    return 0


def _progress(settled: Settled) -> None:
    counters = settled.counters
    if sys.stderr.isatty():
        print(
            f"\ruploaded {counters.uploaded_records:,} records in {counters.total_batches:,} batches, "
            f"skipped {counters.skipped_records:,}",
            end="",
            file=sys.stderr,
            flush=True,
        )
