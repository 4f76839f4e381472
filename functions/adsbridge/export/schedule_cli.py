"""``adsbridge schedule next``: when a job's schedule will really run, before it is deployed.

The times come from the EventBridge Scheduler expressions the cron is translated to, evaluated with AWS's
rules, so an operator checking a Treasure Data cron sees Scheduler's behaviour, daylight saving included.
"""

from __future__ import annotations

import argparse
import json
import sys
import zoneinfo
from datetime import UTC, datetime

from adsbridge.export.schedule import ScheduleError, fire_times, to_scheduler

MAX_COUNT = 1000


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    schedule = subparsers.add_parser("schedule", help="job schedules: Treasure Data cron or EventBridge expressions")
    commands = schedule.add_subparsers(dest="schedule_command", required=True)
    upcoming = commands.add_parser(
        "next",
        help="the next fire times of a schedule, as EventBridge Scheduler will run it",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    upcoming.add_argument("cron", help='TD cron ("0 0 * * 1"), @daily/@hourly/…, cron(…) or rate(…) of EventBridge')
    upcoming.add_argument("--timezone", default="UTC", help="the job's IANA time zone (default UTC)")
    upcoming.add_argument("--count", type=int, default=10, help=f"how many times to print (1-{MAX_COUNT}, default 10)")
    upcoming.add_argument(
        "--after", help="ISO 8601 start, exclusive (default now; without an offset it is in --timezone)"
    )
    upcoming.add_argument("--json", action="store_true", help="a JSON array of ISO 8601 times with their UTC offset")
    upcoming.set_defaults(func=run_next)


def run_next(args: argparse.Namespace) -> int:
    try:
        zone = zoneinfo.ZoneInfo(args.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return _fail(f"--timezone {args.timezone!r} is not an IANA time zone name (e.g. Europe/Berlin)")
    if not 1 <= args.count <= MAX_COUNT:
        return _fail(f"--count must be between 1 and {MAX_COUNT}")
    try:
        after = datetime.fromisoformat(args.after) if args.after else datetime.now(UTC)
    except ValueError:
        return _fail(f"--after {args.after!r} is not an ISO 8601 date and time")
    if after.tzinfo is None:
        after = after.replace(tzinfo=zone)
    try:
        expressions = to_scheduler(args.cron)
    except ScheduleError as exc:
        return _fail(str(exc))
    times = fire_times(expressions, args.timezone, after, args.count)
    if args.json:
        print(json.dumps([time.isoformat() for time in times]))
        return 0
    described = " and ".join(expressions) if expressions else "no schedule"
    print(f"EventBridge Scheduler: {described} in {args.timezone}", file=sys.stderr)
    for time in times:
        print(time.isoformat())
    return 0


def _fail(message: str) -> int:
    print(f"adsbridge schedule next: {message}", file=sys.stderr)
    return 2
