"""``adsbridge demo``: the command's arguments and its exit code; the work is in ``adsbridge_sandbox.demo.runner``.

moto and DuckDB come with the development requirements, so they are imported only when the demo runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

DEFAULT_ROWS = 30_000
STREAMS = ("v1", "v2", "both")  # Marketing Stream v1 over SQS, v2's Parquet files, or both


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run both pipelines end to end locally (moto + the Ads API emulator + DuckDB), no AWS account",
        description="Stream in and Audiences out against local stand-ins for AWS and Amazon, then a summary.",
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=DEFAULT_ROWS,
        help="customers in the file (stream messages: a sixth as many, at least 200)",
    )
    parser.add_argument(
        "--stream",
        choices=STREAMS,
        default="both",
        help="which Marketing Stream to run: v1 (JSON over SQS), v2 (Parquet files into S3) or both (default)",
    )
    parser.add_argument("--keep", action="store_true", help="leave the servers running for exploration (Ctrl-C ends)")
    parser.add_argument("--workdir", type=Path, help="where the generated files go (default: a new temp directory)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        from adsbridge_sandbox.demo import runner
    except ImportError as exc:
        print(f"demo failed: {exc.name} is missing; install the development requirements", file=sys.stderr)
        return 1
    return runner.main(rows=args.rows, keep=args.keep, workdir=args.workdir, stream=args.stream)
