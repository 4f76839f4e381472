"""TD cron → EventBridge Scheduler expressions, checked against Treasure Data's own examples and croniter.

croniter is an independent cron implementation: it evaluates the TD cron as written, in wall-clock time; the
expected instants are those wall-clock times under Scheduler's documented daylight-saving rule (a time the
spring change skips does not run, one the autumn change repeats runs once). Our side goes through the
translated AWS expressions and our own AWS evaluator, so both the translation and the evaluator are judged.
"""

from __future__ import annotations

import itertools
import json
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from croniter import croniter

from adsbridge.cli import main
from adsbridge.export.schedule import ScheduleError, fire_times, to_scheduler

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "America/Santiago")
START = datetime(2026, 1, 1, tzinfo=UTC)

# Sparse enough to compare over a whole year in every zone.
YEARLY = (
    "0 0 * * *",
    "30 2 * * *",  # inside the spring gap in Europe and New York, inside the repeated hour in autumn
    "0 * * * *",
    "15 1,2,3 * * *",
    "0 0 1 * *",
    "0 0 1 * 1",  # day of month or day of week: either runs
    "0 12 1,15 * sun,sat",
    "45 23 28-31 * *",
    "0 9 * * 1-5",
    "0 6 * jan,jul 0",
    "0 0 * * 7",
    "30 */2 1 * *",
    "0 0 29 2 *",
    "0 8 13 * 5",
    "10 4 1-7 * 2",
    "0 3 * 3,10 0",
)
# Dense: compared over the days around each daylight-saving change.
DENSE = ("*/5 * * * *", "2,*/15,50-52 * * * *", "*/10 2 * * *")


def _scheduler_semantics(cron: str, zone: str, start: datetime, end: datetime) -> list[datetime]:
    tz = zoneinfo.ZoneInfo(zone)
    walls = croniter(cron, start.astimezone(tz).replace(tzinfo=None) - timedelta(days=1), day_or=True)
    expected: list[datetime] = []
    while True:
        wall = walls.get_next(datetime)
        aware = wall.replace(tzinfo=tz, fold=0)
        if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
            continue  # skipped by the spring change
        if aware > end:
            return expected
        if aware > start:
            expected.append(aware)


def _ours(cron: str, zone: str, start: datetime, count: int) -> list[datetime]:
    return fire_times(to_scheduler(cron), zone, start, count)


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("cron", YEARLY)
def test_a_year_of_fire_times_agrees_with_croniter(cron: str, zone: str) -> None:
    years = 4 if cron == "0 0 29 2 *" else 1  # a leap day needs a leap year
    expected = _scheduler_semantics(cron, zone, START, START + timedelta(days=366 * years))
    assert expected
    assert _ours(cron, zone, START, len(expected)) == expected


def _changes(zone: str) -> list[datetime]:
    """The instants the zone's UTC offset changes in 2026."""
    tz = zoneinfo.ZoneInfo(zone)
    hours = [START + timedelta(hours=h) for h in range(366 * 24)]
    offsets = [(hour, hour.astimezone(tz).utcoffset()) for hour in hours]
    return [later for (_, before), (later, after) in itertools.pairwise(offsets) if before != after]


@pytest.mark.parametrize("zone", [zone for zone in ZONES if zone not in ("UTC", "Asia/Kolkata")])
@pytest.mark.parametrize("cron", DENSE)
def test_dense_schedules_across_daylight_saving_changes_agree_with_croniter(cron: str, zone: str) -> None:
    changes = _changes(zone)
    assert len(changes) == 2
    for change in changes:
        start = change - timedelta(days=1)
        expected = _scheduler_semantics(cron, zone, start, change + timedelta(days=1))
        assert _ours(cron, zone, start, len(expected)) == expected


@pytest.mark.parametrize(
    ("cron", "days"),
    [
        ("0 0 */5 * *", [5, 10, 15, 20, 25, 30]),  # TD: "every 5 days starting on the 5th of each month"
        ("0 0 5,*/10,25 * *", [5, 10, 20, 25, 30]),  # TD's mixed list
        ("0 0 1-10 * *", list(range(1, 11))),
        ("0 0 1,11,21 * *", [1, 11, 21]),
    ],
)
def test_treasure_datas_day_of_month_examples(cron: str, days: list[int]) -> None:
    times = _ours(cron, "UTC", datetime(2026, 1, 1, tzinfo=UTC) - timedelta(minutes=1), len(days) + 1)
    assert [t.day for t in times[:-1]] == days
    assert times[-1].month == 2


def test_an_instant_both_schedules_match_runs_once() -> None:
    assert to_scheduler("0 0 1 * 1") == ("cron(0 0 1 * ? *)", "cron(0 0 ? * MON *)")
    times = _ours("0 0 1 * 1", "UTC", datetime(2026, 5, 31, tzinfo=UTC), 3)  # 1 June 2026 is a Monday
    assert [t.date().isoformat() for t in times] == ["2026-06-01", "2026-06-08", "2026-06-15"]


@pytest.mark.parametrize(
    ("cron", "expressions"),
    [
        ("", ()),
        ("@daily", ("cron(0 0 * * ? *)",)),
        ("@hourly", ("cron(0 * * * ? *)",)),
        ("@weekly", ("cron(0 0 ? * SUN *)",)),
        ("@monthly", ("cron(0 0 1 * ? *)",)),
        ("@yearly", ("cron(0 0 1 1 ? *)",)),
        ("0 0 * * 0", ("cron(0 0 ? * SUN *)",)),  # TD's Sunday is 0, AWS's 1: names leave no doubt
        ("0 0 * * 7", ("cron(0 0 ? * SUN *)",)),
        ("0 9 * * 1-5", ("cron(0 9 ? * MON-FRI *)",)),
        ("*/5 * * * *", ("cron(0/5 * * * ? *)",)),
        ("30 */2 * * *", ("cron(30 0/2 * * ? *)",)),
        ("0 0 1-31 * 1", ("cron(0 0 * * ? *)",)),  # every day of the month, or Mondays: every day
        ("30 5 ? * MON-FRI *", ("cron(30 5 ? * MON-FRI *)",)),  # AWS's six fields, as older configs hold them
        ("cron(0 12 L * ? *)", ("cron(0 12 L * ? *)",)),
        ("rate(5 minutes)", ("rate(5 minutes)",)),
    ],
)
def test_translations(cron: str, expressions: tuple[str, ...]) -> None:
    assert to_scheduler(cron) == expressions


@pytest.mark.parametrize(
    "cron",
    [
        "0 0 * *",  # four fields
        "61 * * * *",
        "0 24 * * *",
        "0 0 0 * *",
        "0 0 * 13 *",
        "0 0 * * 8",
        "* * * * * * *",
        "*,5 * * * *",  # TD allows every form in a list except the bare wildcard
        "0 0 5-1 * *",
        "*/0 * * * *",
        "0 0 * * funday",
        "cron(0 0 * * * *)",  # AWS: exactly one of the day fields is '?'
        "cron(0 0 ? * ? *)",
        "rate(0 minutes)",
        "rate(5 weeks)",
        "@fortnightly",
    ],
)
def test_what_is_neither_td_nor_aws_is_refused(cron: str) -> None:
    with pytest.raises(ScheduleError):
        to_scheduler(cron)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cron(0 12 L * ? *)", ["2026-01-31", "2026-02-28", "2026-03-31"]),
        ("cron(0 12 15W * ? *)", ["2026-01-15", "2026-02-16", "2026-03-16"]),  # 15 Feb and 15 Mar are Sundays
        ("cron(0 12 1W * ? *)", ["2026-01-01", "2026-02-02", "2026-03-02"]),  # never into the month before
        ("cron(0 12 LW * ? *)", ["2026-01-30", "2026-02-27", "2026-03-31"]),
        ("cron(0 12 ? * 6L *)", ["2026-01-30", "2026-02-27", "2026-03-27"]),  # last Friday
        ("cron(0 12 ? * MON#2 *)", ["2026-01-12", "2026-02-09", "2026-03-09"]),
        ("cron(0 12 ? * 2 2027)", ["2027-01-04", "2027-01-11", "2027-01-18"]),
    ],
)
def test_aws_day_forms_as_documented(expression: str, expected: list[str]) -> None:
    times = fire_times((expression,), "UTC", START, 3)
    assert [t.date().isoformat() for t in times] == expected


def test_fire_times_carry_the_zones_offset() -> None:
    times = _ours("30 2 * * *", "Europe/Berlin", datetime(2026, 3, 28, tzinfo=UTC), 3)
    assert [t.isoformat() for t in times] == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-30T02:30:00+02:00",  # 29 March 02:30 does not exist in Berlin: Scheduler skips it
        "2026-03-31T02:30:00+02:00",
    ]


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["schedule", "next", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_schedule_next_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(
        capsys, "0 0 1 * 1", "--timezone", "America/New_York", "--count", "3", "--after", "2026-05-31T12:00", "--json"
    )
    assert code == 0
    assert json.loads(out) == ["2026-06-01T00:00:00-04:00", "2026-06-08T00:00:00-04:00", "2026-06-15T00:00:00-04:00"]


def test_schedule_next_text_names_the_expressions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(
        capsys, "@daily", "--timezone", "Asia/Kolkata", "--count", "2", "--after", "2026-01-01T00:00Z"
    )
    assert code == 0
    assert out.split() == ["2026-01-02T00:00:00+05:30", "2026-01-03T00:00:00+05:30"]
    assert "cron(0 0 * * ? *) in Asia/Kolkata" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["0 0 * *"], "is not a schedule"),
        (["@daily", "--timezone", "Mars/Olympus"], "--timezone"),
        (["@daily", "--count", "0"], "--count"),
        (["@daily", "--after", "yesterday"], "--after"),
    ],
)
def test_schedule_next_refuses_with_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = _cli(capsys, *argv)
    assert code == 2
    assert out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1
