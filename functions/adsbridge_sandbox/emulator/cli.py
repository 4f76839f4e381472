"""``adsbridge emulator``: run the Amazon Ads sandbox in the foreground so the real client can point at it."""

from __future__ import annotations

import argparse
import threading
from typing import Any

from .model import DEFAULT_MATCH_RATE, check_match_rate
from .server import Emulator
from .streams_v2 import HISTORY_DAYS


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``emulator`` subcommand on the dispatcher's ``add_subparsers()`` object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "emulator",
        help="run a local Amazon Ads AMC audiences API + Login with Amazon sandbox",
        description="Serve a strict local emulator of the Amazon Ads AMC advertiser-audiences API and the "
        "Login with Amazon token endpoint until Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port to bind, 0 for any free port (default 8787)")
    parser.add_argument(
        "--pending-seconds",
        type=float,
        default=0.5,
        help="how long an upload job stays PENDING before it succeeds or fails (default 0.5)",
    )
    parser.add_argument(
        "--match-rate",
        type=_match_rate,
        default=DEFAULT_MATCH_RATE,
        help=f"share (0.0-1.0) of uploaded people that resolve to Amazon identities (default {DEFAULT_MATCH_RATE})",
    )
    parser.add_argument(
        "--accept-terms", action="store_true", help="start with the AMC terms already accepted (default: not)"
    )
    parser.add_argument(
        "--aws-endpoint",
        metavar="URL",
        help="deliver Marketing Stream there (e.g. a moto server): v1 messages to subscribed SQS queues and "
        "Firehose streams, v2 Parquet files and notifications to subscribed buckets and queues (default: none)",
    )
    parser.add_argument(
        "--v2-history-days",
        type=int,
        default=HISTORY_DAYS,
        help=f"days of history a new v2 subscription gets, with --aws-endpoint (default {HISTORY_DAYS}, as Amazon)",
    )
    parser.set_defaults(func=run)
    return parser


def _match_rate(text: str) -> float:
    try:
        return check_match_rate(float(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args: argparse.Namespace, *, stop: threading.Event | None = None) -> int:
    """Serve until Ctrl-C (or until ``stop`` is set, for tests); prints the URL, credentials and env vars."""
    streams: dict[str, Any] = {}
    if getattr(args, "aws_endpoint", None):
        from . import aws_endpoint  # boto3 and pyarrow, only when delivering

        streams = aws_endpoint.delivery(args.aws_endpoint, {"history_days": args.v2_history_days})
    emulator = Emulator(
        args.host,
        args.port,
        pending_seconds=args.pending_seconds,
        match_rate=getattr(args, "match_rate", DEFAULT_MATCH_RATE),
        **streams,
    )
    try:
        emulator.start()
    except OSError as exc:
        print(f"adsbridge emulator: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
        return 2
    if getattr(args, "accept_terms", False):
        emulator.accept_terms()
    creds = emulator.credentials
    lines = [
        f"Amazon Ads emulator listening on {emulator.url}",
        f"  token endpoint: {emulator.token_url}",
        f"  sandbox client id:     {creds.client_id}",
        f"  sandbox client secret: {creds.client_secret}",
        f"  sandbox refresh token: {creds.refresh_token}",
        *([f"  Marketing Stream delivered to AWS endpoint {args.aws_endpoint}"] if streams else []),
        "Point adsbridge at it with:",
        *(f"  export {name}='{value}'" for name, value in emulator.client_environment().items()),
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)
    waiter = stop or threading.Event()
    try:
        while not waiter.wait(0.5):
            pass
    except KeyboardInterrupt:
        print("\nstopping emulator", flush=True)
    finally:
        emulator.stop()
    return 0
