"""Export jobs as code: a typed JSON file the CDK app reads; a bad job fails synthesis naming the job and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from adsbridge.export.chunks import DEFAULT_CHUNK_BYTES
from adsbridge.export.state import JOB_NAME
from adsbridge.settings import SettingsError, parse_settings


class ConfigError(ValueError):
    """The export config is invalid; the message names the job and field."""


class Trigger(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # S3 object-created events under incoming/<prefix> start the job. (Scheduled Athena jobs: not yet built.)
    prefix: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9!_.*'()/-]+/$")]


class JobConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=JOB_NAME)]
    settings: dict[str, Any]
    secret_name: Annotated[str, Field(min_length=1, max_length=512)]
    trigger: Trigger
    chunk_bytes: Annotated[int, Field(ge=1024 * 1024)] = DEFAULT_CHUNK_BYTES

    @field_validator("settings")
    @classmethod
    def _valid_settings(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            parse_settings(value)
        except SettingsError as exc:
            raise ValueError("; ".join(exc.problems)) from None
        return value


class ExportConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    jobs: list[JobConfig]
    raw_retention_days: Annotated[int, Field(ge=1, le=365)] = 7
    state_retention_days: Annotated[int, Field(ge=1, le=3650)] = 90
    max_concurrency: Annotated[int, Field(ge=1, le=40)] = 4
    poll_interval_seconds: Annotated[int, Field(ge=5, le=3600)] = 60


def parse_export_config(data: Any) -> ExportConfig:
    try:
        config = ExportConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("invalid export config: " + "; ".join(_describe(data, e) for e in exc.errors())) from None
    names = [job.name for job in config.jobs]
    prefixes = [job.trigger.prefix for job in config.jobs]
    for label, values in (("name", names), ("trigger.prefix", prefixes)):
        dupes = sorted({v for v in values if values.count(v) > 1})
        if dupes:
            raise ConfigError(f"invalid export config: jobs: {label} must be unique, repeated: {', '.join(dupes)}")
    return config


def load_export_config(path: str | Path) -> ExportConfig:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"export config {path}: {exc}") from None
    return parse_export_config(data)


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
