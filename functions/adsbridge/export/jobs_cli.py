"""``adsbridge jobs list | run NAME | status [NAME]``: the export jobs of a deployed stack, run now by hand.

Treasure Data users re-run a scheduled job from its page; here ``jobs run`` starts the deployed state machine
with exactly the input the job's trigger would give it (README, "Deploying to AWS"), and ``jobs status`` reads
the executions and the reports they wrote. AWS is reached through ``adsbridge.export.deployed``.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adsbridge.export.deployed import Deployed, Job

MAX_COUNT = 1000
REPORT_COUNTS = ("status", "total_records", "uploaded_records", "skipped_records", "audience_id")


class Refused(ValueError):
    """A command-line value that cannot work (an unknown job, a key outside the job's prefix): exit 2."""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    jobs = subparsers.add_parser("jobs", help="the export jobs of a deployed stack: list, run now, status")
    commands = jobs.add_subparsers(dest="jobs_command", required=True)
    listing = commands.add_parser("list", help="the deployed jobs with their S3 drops and schedules")
    run = commands.add_parser("run", help="start a job now with the input its trigger would give")
    run.add_argument("name", help="the job's name")
    run.add_argument("--key", help="for an S3-drop job: the object to export (incoming/<prefix>…)")
    status = commands.add_parser("status", help="recent executions, newest first, with their reports")
    status.add_argument("name", nargs="?", help="only this job's executions")
    status.add_argument("--count", type=int, default=10, help=f"how many executions (1-{MAX_COUNT}, default 10)")
    for command, func in ((listing, run_list), (run, run_now), (status, run_status)):
        command.add_argument("--stack", default=None, help="the export stack's name (default AdsbridgeExport)")
        command.add_argument("--json", action="store_true", help="print JSON instead of text")
        command.set_defaults(func=func)


def run_list(args: argparse.Namespace) -> int:
    return _guarded(args, _list)


def run_now(args: argparse.Namespace) -> int:
    return _guarded(args, _run)


def run_status(args: argparse.Namespace) -> int:
    if not 1 <= args.count <= MAX_COUNT:
        return _fail(args, f"--count must be between 1 and {MAX_COUNT}", 2)
    return _guarded(args, _status)


def _guarded(args: argparse.Namespace, command: Any) -> int:
    """The command against the stack; a refusal is exit 2, an AWS failure exit 1, each one stderr line."""
    import boto3
    from botocore.exceptions import BotoCoreError

    from adsbridge.export.deployed import DEFAULT_STACK, Deployed, DeployedError

    try:
        deployed = Deployed.find(args.stack or DEFAULT_STACK, lambda service: boto3.client(service))  # type: ignore[call-overload]
        return int(command(args, deployed))
    except Refused as exc:
        return _fail(args, str(exc), 2)
    except DeployedError as exc:
        hint = "" if args.stack else " (the stack is AdsbridgeExport unless --stack names it)"
        return _fail(args, f"{exc}{hint if 'ListStackResources' in str(exc) else ''}", 1)
    except (BotoCoreError, ValueError) as exc:  # no (or an empty) region: raised as a client is made
        return _fail(args, f"{type(exc).__name__}: {exc}", 1)


def _list(args: argparse.Namespace, deployed: Deployed) -> int:
    jobs = deployed.jobs()
    stack = deployed.stack
    if args.json:
        _print_json({"stack": stack.name, "state_machine": stack.machine_arn, "state_bucket": stack.state_bucket,
                     "input_bucket": stack.input_bucket, "jobs": [_job_json(job) for job in jobs]})  # fmt: skip
        return 0
    print(f"stack {stack.name}: state machine {stack.machine_arn}, reports in s3://{stack.state_bucket}/reports/")
    if not jobs:
        print("no jobs: nothing starts this state machine")
    for job in jobs:
        print(f"{job.name}: action {job.spec.get('settings', {}).get('action', '?')}")
        for drop in job.drops:
            print(f"  S3 drop: objects under s3://{drop.bucket}/{drop.prefix} (rule {drop.rule}, {drop.state})")
        for schedule in job.schedules:
            print(f"  schedule: {schedule.expression} in {schedule.timezone} ({schedule.name}, {schedule.state})")
        query = job.query()
        if query:
            print(
                f"  query in {query.get('database')} (workgroup {query.get('workgroup')}): {_one_line(query.get('sql'))}"
            )
    return 0


def _job_json(job: Job) -> dict[str, Any]:
    return {
        "name": job.name,
        "job": job.spec,
        "drops": [{"rule": d.rule, "state": d.state, "bucket": d.bucket, "prefix": d.prefix} for d in job.drops],
        "schedules": [
            {"name": s.name, "group": s.group, "state": s.state, "expression": s.expression, "timezone": s.timezone}
            for s in job.schedules
        ],
        "query": job.query(),
    }


def _run(args: argparse.Namespace, deployed: Deployed) -> int:
    job = next((job for job in deployed.jobs() if job.name == args.name), None)
    if job is None:
        known = ", ".join(job.name for job in deployed.jobs()) or "none"
        raise Refused(f"no job {args.name!r} in stack {deployed.stack.name} (jobs: {known})")
    execution_input = _input(job, args.key, deployed)
    name = f"run-now-{uuid.uuid4()}"
    arn = deployed.start(name, execution_input)
    report = deployed.stack.report_location(job.name, name)
    if args.json:
        _print_json({"job": job.name, "execution_arn": arn, "execution_name": name, "report": report,
                     "input": execution_input})  # fmt: skip
    else:
        print(arn)
        print(f"started {job.name} as {name}; its report will be {report}", file=sys.stderr)
    return 0


def _input(job: Job, key: str | None, deployed: Deployed) -> dict[str, Any]:
    """What the job's trigger would start it with: the S3 rule's for ``key``, else the schedule's, now."""
    if key is None:
        if not job.schedules:
            prefixes = " or ".join(f"s3://{d.bucket}/{d.prefix}" for d in job.drops)
            raise Refused(f"job {job.name} starts on S3 drops: give --key, an object under {prefixes}")
        return job.schedules[0].execution_input(datetime.now(UTC))
    drop = next((d for d in job.drops if key.startswith(d.prefix)), None)
    if drop is None:
        where = " or ".join(d.prefix for d in job.drops) or "nothing: it has no S3 drop"
        raise Refused(f"--key {key!r} is not under job {job.name}'s prefix ({where})")
    if not deployed.object_exists(drop.bucket, key):
        raise Refused(f"--key: no object s3://{drop.bucket}/{key}")
    return drop.execution_input(key)


def _status(args: argparse.Namespace, deployed: Deployed) -> int:
    executions = deployed.executions(args.name, args.count)
    rows = [_execution_json(deployed, execution) for execution in executions]
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print(f"no executions{f' of {args.name}' if args.name else ''}")
    for row in rows:
        print(f"{row['job'] or '?'}  {row['status']}  started {row['start']}  stopped {row['stop'] or '-'}  "
              f"{row['execution_name']}")  # fmt: skip
        report = row["report"]
        if report:
            print(f"  report {report['status']}: {report['total_records']} records, {report['uploaded_records']}"
                  f" uploaded, {report['skipped_records']} skipped; audience {report['audience_id']};"
                  f" {report['location']}")  # fmt: skip
    return 0


def _execution_json(deployed: Deployed, execution: dict[str, Any]) -> dict[str, Any]:
    report = execution["report"]
    location = deployed.stack.report_location(execution["job"], execution["name"]) if report else None
    return {
        "job": execution["job"],
        "execution_name": execution["name"],
        "execution_arn": execution["executionArn"],
        "status": execution["status"],
        "start": _time(execution.get("startDate")),
        "stop": _time(execution.get("stopDate")),
        "report": {**{name: report.get(name) for name in REPORT_COUNTS}, "location": location} if report else None,
    }


def _time(value: Any) -> str | None:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else None


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2))


def _fail(args: argparse.Namespace, message: str, code: int) -> int:
    print(f"adsbridge jobs {args.jobs_command}: {_one_line(message)}", file=sys.stderr)
    return code
