"""``adsbridge export --query``: an Athena query whose result CSV becomes the export's input, like Treasure
Data's ``td query --result`` (README, "Command line").

The query runs to its end here; its result file (``<OutputLocation><QueryExecutionId>.csv``, which Athena names
in ``GetQueryExecution``) is then exported exactly as ``--input s3://…`` would be: same settings, same report.
boto3 is imported only when a query runs, so ``adsbridge export --input`` starts as fast as before.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable
from typing import Any

TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
MAX_POLL_SECONDS = 5.0


class QueryRefused(ValueError):
    """Query options that cannot work (``--database`` without ``--query``…): refused before anything runs."""


class QueryFailed(RuntimeError):
    """Athena ended the query without a result, or could not be asked; the message names Athena's reason."""


def add_arguments(parser: argparse.ArgumentParser, source: argparse._MutuallyExclusiveGroup) -> None:
    """``--query`` beside ``--input`` (one of them), and the Athena options that go with it."""
    source.add_argument("--query", help="an Athena SQL query whose result is exported (instead of --input)")
    parser.add_argument("--database", help="with --query: the Glue database the query runs in")
    parser.add_argument("--workgroup", help="with --query: the Athena workgroup (default: Athena's, primary)")
    parser.add_argument(
        "--output-location", help="with --query: s3://bucket/prefix/ for the result (default: the workgroup's)"
    )


def check_arguments(args: argparse.Namespace) -> None:
    if args.query is None:
        given = [f"--{name.replace('_', '-')}" for name in ("database", "workgroup", "output_location")
                 if getattr(args, name) is not None]  # fmt: skip
        if given:
            raise QueryRefused(f"{', '.join(given)} only go with --query")
        return
    if not args.query.strip():
        raise QueryRefused("--query is empty")
    if not args.database:
        raise QueryRefused("--query needs --database (the Glue database the query runs in)")
    if args.output_location is not None and not args.output_location.startswith("s3://"):
        raise QueryRefused(f"--output-location {args.output_location!r} is not an s3://bucket/prefix/ location")


def result_location(args: argparse.Namespace, client: Any = None, sleep: Callable[[float], None] = time.sleep) -> str:
    """Run the query to its end; the s3:// location of its result CSV. ``QueryFailed`` otherwise.

    Interrupted while waiting (Ctrl-C), the query is stopped before the interruption goes on: nothing is left
    running that nobody reads.
    """
    if client is None:
        client = _call(_athena, "client")
    query_id = _start(client, args)
    try:
        status, execution = _wait(client, query_id, sleep)
    except BaseException:
        _stop(client, query_id)
        raise
    if status["State"] != "SUCCEEDED":
        reason = status.get("StateChangeReason") or "Athena gave no reason"
        raise QueryFailed(f"Athena query {query_id} ended {status['State']}: {reason}")
    location = execution.get("ResultConfiguration", {}).get("OutputLocation")
    if not location:
        raise QueryFailed(f"Athena query {query_id} SUCCEEDED but names no result location")
    return str(location)


def _start(client: Any, args: argparse.Namespace) -> str:
    request: dict[str, Any] = {"QueryString": args.query, "QueryExecutionContext": {"Database": args.database}}
    if args.workgroup:
        request["WorkGroup"] = args.workgroup
    if args.output_location:
        request["ResultConfiguration"] = {"OutputLocation": args.output_location}
    return str(_call(client.start_query_execution, "StartQueryExecution", **request)["QueryExecutionId"])


def _wait(client: Any, query_id: str, sleep: Callable[[float], None]) -> tuple[dict[str, Any], dict[str, Any]]:
    delay = 0.25
    while True:
        execution = _call(client.get_query_execution, "GetQueryExecution", QueryExecutionId=query_id)
        execution = execution["QueryExecution"]
        if execution["Status"]["State"] in TERMINAL:
            return execution["Status"], execution
        sleep(delay)
        delay = min(delay * 2, MAX_POLL_SECONDS)


def _stop(client: Any, query_id: str) -> None:
    with contextlib.suppress(Exception):  # best effort on the way out: the interruption is what gets reported
        client.stop_query_execution(QueryExecutionId=query_id)


def _athena() -> Any:
    import boto3

    return boto3.client("athena")


def _call(method: Callable[..., Any], operation: str, **kwargs: Any) -> Any:
    """An Athena call; an AWS or credentials error becomes one ``QueryFailed`` naming the operation."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return method(**kwargs)
    except (BotoCoreError, ClientError, ValueError) as exc:  # ValueError: an empty region names no endpoint
        raise QueryFailed(f"Athena {operation}: {exc}") from None
