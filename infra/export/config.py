"""Export jobs as code: a typed JSON file the CDK app reads; a bad job fails synthesis naming the job and field."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from adsbridge.export.chunks import DEFAULT_CHUNK_BYTES
from adsbridge.export.payloads import JobSpec
from adsbridge.export.schedule import to_scheduler
from adsbridge.export.trigger import job_input
from adsbridge.settings import SettingsField
from infra.stream.config import SNS_TOPIC_ARN


class ConfigError(ValueError):
    """The export config is invalid; the message names the job and field."""


IDENTIFIER = r"^[A-Za-z0-9_-]{1,128}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PREFIX = r"^[A-Za-z0-9!_.*'()/-]+/$"
MIN_DEPLOYED_CHUNK_BYTES = 1024 * 1024
MAX_EXACT_INTEGER = 2**53 - 1  # JavaScript's Number.MAX_SAFE_INTEGER: past it a double skips integers


class Schedule(BaseModel):
    """A cron in an IANA time zone runs ``query`` in Athena; its result CSV is the job's input."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # TD's 5-field cron or @daily-style macro, AWS's cron(...)/rate(...) or its 6 bare fields, "" for none
    # (README, "`adsbridge.json`"); it becomes one or two Scheduler schedules (``expressions``)
    cron: str
    timezone: str = "UTC"
    query: Annotated[str, Field(min_length=1, max_length=262_144)]
    database: Annotated[str, Field(pattern=IDENTIFIER)] = "default"
    workgroup: Annotated[str, Field(pattern=IDENTIFIER)] = "primary"
    output_prefix: Annotated[str | None, Field(pattern=PREFIX)] = None  # under athena-results/; default <job>/
    # where the queried tables' data lives: the state machine (Athena runs with its rights) may read only these
    data_locations: list[Annotated[str, Field(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/([^*?]+/)?$")]] = []
    # TD's "delay execution": a run waits this long after its scheduled time before it starts the query
    delay_seconds: Annotated[int, Field(ge=0, le=86_400)] = 0

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        to_scheduler(value)  # a ScheduleError is a ValueError: the message names what is wrong
        return value

    @property
    def expressions(self) -> tuple[str, ...]:
        """The Scheduler expressions that fire at exactly the cron's instants; none for ``""``."""
        return to_scheduler(self.cron)

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        if value not in zoneinfo.available_timezones():
            raise ValueError(f"{value!r} is not an IANA time zone name (e.g. Europe/Berlin)")
        return value


class Trigger(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # S3 object-created events under incoming/<prefix> start the job; so does the schedule, if any.
    prefix: Annotated[str | None, Field(min_length=1, pattern=PREFIX)] = None
    schedule: Schedule | None = None

    @model_validator(mode="after")
    def _one_at_least(self) -> Trigger:
        if self.prefix is None and (self.schedule is None or not self.schedule.expressions):
            raise ValueError("needs a prefix, a schedule or both")
        return self


class JobConfig(JobSpec):
    """A job of ``adsbridge.json``: the ``JobSpec`` its executions carry (name, settings, notify, accept_terms
    are defined there once), plus its trigger, stricter where a deployed job must be.

    The settings are the validated model, so a bad setting fails synthesis naming the job and the setting, and
    they reach the templates as ``ExportSettings.wire`` (ids as digit strings).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    settings: SettingsField
    secret_name: Annotated[str, Field(min_length=1, max_length=512)]  # a deployed job reads its secret
    trigger: Trigger
    # at least 1 MiB: a deployed job's chunks stay few (each is a Map item and a Lambda invocation); the state
    # machine itself works with any size (the tests plan chunks of a few hundred bytes)
    chunk_bytes: Annotated[int, Field(ge=MIN_DEPLOYED_CHUNK_BYTES)] = DEFAULT_CHUNK_BYTES

    def spec(self) -> JobSpec:
        """The ``job`` an execution of this job carries (rules and schedules alike)."""
        return JobSpec.model_validate({name: getattr(self, name) for name in JobSpec.model_fields})

    @model_validator(mode="after")
    def _exact_in_templates(self) -> JobConfig:
        # The job's input is written into rule and schedule inputs by CDK's JavaScript, whose doubles round any
        # integer past 2**53 to another value: refuse one (ids already travel as digit strings, see exact_ids).
        for path, number in _integers(job_input(self.spec())):
            if abs(number) > MAX_EXACT_INTEGER:
                raise ValueError(f"{path}: at most {MAX_EXACT_INTEGER}; a larger number reaches the template rounded")
        return self


class ExportConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    jobs: list[JobConfig]
    raw_retention_days: Annotated[int, Field(ge=1, le=365)] = 7
    state_retention_days: Annotated[int, Field(ge=1, le=3650)] = 90
    max_concurrency: Annotated[int, Field(ge=1, le=40)] = 4
    poll_interval_seconds: Annotated[int, Field(ge=5, le=3600)] = 60
    query_poll_seconds: Annotated[int, Field(ge=1, le=300)] = 10
    ads_retry_seconds: Annotated[int, Field(ge=1, le=3600)] = 60  # first task-level retry after a throttle/5xx storm
    query_timeout_minutes: Annotated[int, Field(ge=1, le=1440)] = 60
    # Where the stack's alarms go, as in the stream section: an encrypted topic that emails this address, or the
    # operator's own topics, all in the region the stack is deployed to (an alarm notifies only its own region).
    # Neither: our topic is still created, without subscribers (stack output AlarmTopicArn), so alarms can notify.
    alarm_email: Annotated[str, Field(pattern=EMAIL)] | None = None
    alarm_topic_arns: Annotated[list[Annotated[str, Field(pattern=SNS_TOPIC_ARN)]], Field(max_length=5)] = []

    @model_validator(mode="after")
    def _alarm_targets(self) -> ExportConfig:
        if self.alarm_email and self.alarm_topic_arns:
            raise ValueError("alarm_email and alarm_topic_arns are alternatives; set one")
        if len({arn.split(":")[3] for arn in self.alarm_topic_arns}) > 1:
            raise ValueError("alarm_topic_arns: the topics must all be in the region the stack is deployed to")
        return self

    @property
    def alarm_region(self) -> str | None:
        """The region ``alarm_topic_arns`` are in, which the stack must be deployed to."""
        return self.alarm_topic_arns[0].split(":")[3] if self.alarm_topic_arns else None


def _integers(value: Any, path: str = "") -> Iterator[tuple[str, int]]:
    """(dotted path, value) of every integer in ``value`` (booleans are not integers here)."""
    if isinstance(value, dict):
        for key, each in value.items():
            yield from _integers(each, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for n, each in enumerate(value):
            yield from _integers(each, f"{path}.{n}")
    elif isinstance(value, int) and not isinstance(value, bool):
        yield path, value


def parse_export_config(data: Any) -> ExportConfig:
    try:
        config = ExportConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("invalid export config: " + "; ".join(_describe(data, e) for e in exc.errors())) from None
    names = [job.name for job in config.jobs]
    prefixes = [job.trigger.prefix for job in config.jobs if job.trigger.prefix]
    for label, values in (("name", names), ("trigger.prefix", prefixes)):
        dupes = sorted({v for v in values if values.count(v) > 1})
        if dupes:
            raise ConfigError(f"invalid export config: jobs: {label} must be unique, repeated: {', '.join(dupes)}")
    return config


def _describe(data: Any, error: Any) -> str:
    """``job 'crm': settings: country_code: required`` — the job by name when it has one, never a value."""
    loc = list(error["loc"])
    where = ".".join(str(part) for part in loc)
    if len(loc) >= 2 and loc[0] == "jobs" and isinstance(loc[1], int):
        job = data["jobs"][loc[1]] if isinstance(data, dict) else {}
        name = job.get("name") if isinstance(job, dict) else None
        where = f"job {name!r}" if name else f"jobs[{loc[1]}]"
        where += ": " + ".".join(str(part) for part in loc[2:]) if loc[2:] else ""
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {'unknown field' if error['type'] == 'extra_forbidden' else message}"
