"""Job schedules: Treasure Data's cron as EventBridge Scheduler expressions, and when those really fire.

Treasure Data users bring 5-field crons (README, "Schedules"): Sunday is 0 (or 7), ``*/n`` takes the field's
multiples of n (TD's own example: ``0 0 */5 * *`` runs on the 5th, 10th, …), a list may mix values, ranges and
steps, and when both day-of-month and day-of-week are restricted a day matching either runs. EventBridge
Scheduler speaks AWS's 6-field cron instead (Sunday = 1, one of the two day fields must be ``?``), so a TD
cron becomes one Scheduler expression, or two when both day fields are restricted; whoever starts the job
must then run an instant both match once (each scheduled execution first claims its scheduled time, schedule_claim).

:func:`fire_times` evaluates Scheduler expressions with AWS's semantics, in the schedule's time zone and with
its daylight-saving rules (a wall-clock time skipped in spring does not run, one repeated in autumn runs
once), so ``adsbridge schedule next`` shows what will run, not what was meant.
"""

from __future__ import annotations

import calendar
import heapq
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # TD numbers them 0-6, AWS 1-7
MAX_EXPRESSION = 256  # EventBridge Scheduler's ScheduleExpression length limit
SEARCH_YEARS = 30  # how far fire_times looks ahead (an expression may fire only on a rare date, or never again)
_RATE = re.compile(r"rate\(\s*([1-9][0-9]*)\s+(minutes?|hours?|days?)\s*\)")
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


class ScheduleError(ValueError):
    """A schedule that is neither TD's cron nor AWS's; the message says which part and why, never guesses."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names for low, low + 1, … (case-insensitive)

    def number(self, token: str) -> int:
        if token.upper() in self.names:
            return self.low + self.names.index(token.upper())
        if not token.isdigit():
            raise ScheduleError(f"{self.name}: {token!r} is not a number or name")
        return int(token)

    def check(self, value: int, high: int | None = None) -> int:
        if not self.low <= value <= (self.high if high is None else high):
            raise ScheduleError(f"{self.name}: {value} is outside {self.low}-{self.high}")
        return value


# Treasure Data's five fields; day-of-week 7 is Sunday again, folded onto 0.
_TD = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, MONTHS),
    _Field("day-of-week", 0, 6, DAYS),
)


def _td_values(field: _Field, text: str) -> frozenset[int]:
    """The values a TD field allows: ``*``, ``n``, ``a-b``, ``a-b/s``, ``a/s``, ``*/s`` and lists of all but ``*``."""
    if text == "*":
        return frozenset(range(field.low, field.high + 1))
    top = 7 if field.name == "day-of-week" else field.high
    values: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) < 1:
                raise ScheduleError(f"{field.name}: step {step_text!r} in {part!r} is not a positive number")
            step = int(step_text)
        if base == "*":
            if not slash:
                raise ScheduleError(f"{field.name}: '*' cannot be part of a list ({text!r})")
            values.update(v for v in range(field.low, field.high + 1) if v % step == 0)
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = field.check(field.number(first), top), field.check(field.number(last), top)
            if start > end:
                raise ScheduleError(f"{field.name}: range {base!r} runs backwards")
            values.update(range(start, end + 1, step))
        else:
            start = field.check(field.number(base), top)
            values.update(range(start, top + 1, step) if slash else (start,))
    return frozenset(value % 7 if field.name == "day-of-week" else value for value in values)


def _compact(values: frozenset[int], low: int, high: int, names: tuple[str, ...] = ()) -> str:
    """AWS cron text for a set: ``*``, ``a/s``, or a list of values and ``a-b`` runs (names where given)."""
    ordered = sorted(values)
    if ordered == list(range(low, high + 1)):
        return "*"
    label = (lambda v: names[v - low]) if names else str
    if not names and len(ordered) > 2:
        start, step = ordered[0], ordered[1] - ordered[0]
        if ordered == list(range(start, high + 1, step)):
            return f"{start}/{step}"
    runs: list[list[int]] = []
    for value in ordered:
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    return ",".join(
        f"{label(run[0])}-{label(run[-1])}" if len(run) > 2 else ",".join(label(v) for v in run) for run in runs
    )


def _from_td(cron: str) -> tuple[str, ...]:
    texts = cron.split()
    minute, hour, dom, month, dow = (_td_values(field, text) for field, text in zip(_TD, texts, strict=True))
    head = f"{_compact(minute, 0, 59)} {_compact(hour, 0, 23)}"
    months = _compact(month, 1, 12)
    days_of_month = _compact(dom, 1, 31)
    weekdays = _compact(frozenset(d + 1 for d in dow), 1, 7, DAYS)
    every_day = f"cron({head} * {months} ? *)"
    by_date = f"cron({head} {days_of_month} {months} ? *)"
    by_weekday = f"cron({head} ? {months} {weekdays} *)"
    dom_restricted, dow_restricted = texts[2] != "*", texts[4] != "*"
    if dom_restricted and dow_restricted:  # either matches: two schedules, one run for an instant both hit
        return (every_day,) if "*" in (days_of_month, weekdays) else (by_date, by_weekday)
    if dow_restricted:
        return (by_weekday if weekdays != "*" else every_day,)
    return (by_date if days_of_month != "*" else every_day,)


def to_scheduler(cron: str) -> tuple[str, ...]:
    """EventBridge Scheduler expressions for a job's ``cron``; ``()`` for ``""`` (TD's "no schedule").

    Accepted: TD's 5 fields and ``@hourly``-style macros (translated); AWS's ``cron(6 fields)`` and
    ``rate(n unit)``, and the 6 bare fields older adsbridge configs hold (checked, kept as they are).
    """
    text = cron.strip()
    if not text:
        return ()
    if text.lower() in MACROS:
        text = MACROS[text.lower()]
    if _RATE.fullmatch(text):
        return (text,)
    inner = text[5:-1].strip() if text.startswith("cron(") and text.endswith(")") else text
    fields = inner.split()
    if len(fields) == 6 or text.startswith("cron("):
        _AwsCron.parse(inner)
        expressions: tuple[str, ...] = (f"cron({' '.join(fields)})",)
    elif len(fields) == 5:
        expressions = _from_td(inner)
    else:
        raise ScheduleError(
            f"{cron!r} is not a schedule: give Treasure Data's 5 fields (minute hour day-of-month month "
            'day-of-week), @hourly/@daily/@weekly/@monthly/@yearly, cron(…) or rate(…) of EventBridge, or ""'
        )
    for expression in expressions:
        if len(expression) > MAX_EXPRESSION:
            raise ScheduleError(f"translated to {len(expression)} characters, over Scheduler's {MAX_EXPRESSION}")
    return expressions


@dataclass(frozen=True)
class _AwsCron:
    """One parsed AWS cron expression (minutes hours day-of-month month day-of-week year)."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: str  # kept as text: L, W and ranges depend on the month
    months: frozenset[int]
    weekdays: str
    years: frozenset[int]

    @classmethod
    def parse(cls, inner: str) -> _AwsCron:
        fields = inner.split()
        if len(fields) != 6:
            raise ScheduleError(f"cron({inner}) needs 6 fields: minutes hours day-of-month month day-of-week year")
        minutes, hours, days, months, weekdays, years = fields
        if (days == "?") == (weekdays == "?"):
            raise ScheduleError(f"cron({inner}): exactly one of day-of-month and day-of-week must be '?'")
        parsed = cls(
            tuple(sorted(_aws_values(_Field("minutes", 0, 59), minutes))),
            tuple(sorted(_aws_values(_Field("hours", 0, 23), hours))),
            days,
            _aws_values(_Field("month", 1, 12, MONTHS), months),
            weekdays,
            _aws_values(_Field("year", 1970, 2199), years),
        )
        parsed.day_matches(date(2000, 1, 31))  # rejects a malformed day field now, not at evaluation
        return parsed

    def day_matches(self, day: date) -> bool:
        if day.month not in self.months or day.year not in self.years:
            return False
        if self.days != "?":
            return _day_of_month_matches(self.days, day)
        return _day_of_week_matches(self.weekdays, day)


def _aws_values(field: _Field, text: str) -> frozenset[int]:
    """``*``, ``n``, ``a-b``, ``a/s``, ``*/s``, ``a-b/s`` and lists of them (AWS counts steps from the start)."""
    values: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        if slash and (not step_text.isdigit() or int(step_text) < 1):
            raise ScheduleError(f"{field.name}: step {step_text!r} in {part!r} is not a positive number")
        step = int(step_text) if slash else 1
        if base == "*":
            start, end = field.low, field.high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = field.check(field.number(first)), field.check(field.number(last))
        else:
            start = field.check(field.number(base))
            end = field.high if slash else start
        values.update(range(start, end + 1, step))
    if not values:
        raise ScheduleError(f"{field.name}: {text!r} allows no value")
    return frozenset(values)


def _day_of_month_matches(text: str, day: date) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    if text == "L":
        return day.day == last
    if text.endswith("W"):  # the weekday nearest the given day (LW: the last weekday), never leaving the month
        target = last if text == "LW" else _Field("day-of-month", 1, 31).check(_int(text[:-1], "day-of-month"))
        return target <= last and day.day == _nearest_weekday(day.replace(day=target))
    return day.day in _aws_values(_Field("day-of-month", 1, 31), text)


def _nearest_weekday(day: date) -> int:
    if day.weekday() == 5:  # Saturday: Friday, unless that is the previous month
        return day.day - 1 if day.day > 1 else day.day + 2
    if day.weekday() == 6:
        last = calendar.monthrange(day.year, day.month)[1]
        return day.day + 1 if day.day < last else day.day - 2
    return day.day


def _day_of_week_matches(text: str, day: date) -> bool:
    aws_weekday = (day.weekday() + 1) % 7 + 1  # Monday is 0 in Python, 2 in AWS
    weekday_field = _Field("day-of-week", 1, 7, DAYS)
    if "#" in text:  # n#k: the k-th such weekday of the month
        name, _, nth = text.partition("#")
        k = _int(nth, "day-of-week")
        return weekday_field.number(name) == aws_weekday and (day.day - 1) // 7 + 1 == k and 1 <= k <= 5
    if text.endswith("L") and text != "L":  # nL: the last such weekday of the month
        last = calendar.monthrange(day.year, day.month)[1]
        return weekday_field.number(text[:-1]) == aws_weekday and day.day + 7 > last
    if text == "L":
        return aws_weekday == 7
    return aws_weekday in _aws_values(weekday_field, text)


def _int(text: str, name: str) -> int:
    if not text.isdigit():
        raise ScheduleError(f"{name}: {text!r} is not a number")
    return int(text)


def fire_times(expressions: tuple[str, ...], timezone: str, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` instants after ``after`` at which any of ``expressions`` fires, each once.

    ``rate(…)`` counts from ``after`` (Scheduler counts from the schedule's start date, which only AWS knows).
    """
    if after.tzinfo is None:
        raise ValueError("after must carry its UTC offset")
    zone = zoneinfo.ZoneInfo(timezone)
    streams: list[Iterator[datetime]] = []
    for expression in expressions:
        rate = _RATE.fullmatch(expression)
        if rate:
            step = timedelta(seconds=int(rate.group(1)) * _RATE_UNITS[rate.group(2).rstrip("s")])
            streams.append(after + step * k for k in range(1, count + 1))
        else:
            streams.append(_cron_instants(_AwsCron.parse(expression[5:-1]), zone, after))
    times: list[datetime] = []
    for instant in heapq.merge(*streams):  # each stream ascends; an instant two expressions share runs once
        if not times or instant != times[-1]:
            times.append(instant)
        if len(times) == count:
            break
    return [instant.astimezone(zone) for instant in times]


def _cron_instants(cron: _AwsCron, zone: zoneinfo.ZoneInfo, after: datetime) -> Iterator[datetime]:
    start = after.astimezone(zone).date() - timedelta(days=1)  # a day back: the zone may be behind UTC
    for offset in range(366 * SEARCH_YEARS):
        day = start + timedelta(days=offset)
        if not cron.day_matches(day):
            continue
        for hour in cron.hours:
            for minute in cron.minutes:
                instant = _local_instant(datetime(day.year, day.month, day.day, hour, minute), zone)
                if instant is not None and instant > after:
                    yield instant


def _local_instant(wall: datetime, zone: zoneinfo.ZoneInfo) -> datetime | None:
    """The instant a wall-clock time names in ``zone``: the first of two in autumn, none in the spring gap."""
    aware = wall.replace(tzinfo=zone, fold=0)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return aware.astimezone(UTC)
