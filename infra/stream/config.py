"""Which realms and datasets to stream; a bad value fails synthesis with a message naming the field."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from adsbridge.stream import datasets
from adsbridge.stream.datasets import Realm

SNS_TOPIC_ARN = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$"


class ConfigError(ValueError):
    """The stream config is invalid; the message names the field."""


class StreamConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    realms: Annotated[tuple[Realm, ...], Field(min_length=1)]
    datasets: Annotated[tuple[str, ...], Field(min_length=1)] = tuple(datasets.catalogue())
    queue_prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,20}-$")] = "adsbridge-"
    lambda_timeout_seconds: Annotated[int, Field(ge=10, le=900)] = 120
    ingest_memory_mb: Annotated[int, Field(ge=128, le=10_240)] = 1024  # bench/ingest_bench.py prices this
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = 10_000
    batching_window_seconds: Annotated[int, Field(ge=1, le=300)] = 60
    # Where alarms go: an encrypted topic per realm that emails this address, or the operator's own topic per
    # realm (an alarm can only notify a topic in its own region). Neither: alarms show in the console only.
    alarm_email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    alarm_topic_arns: dict[Realm, Annotated[str, Field(pattern=SNS_TOPIC_ARN)]] = Field(default_factory=dict)

    @field_validator("datasets")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(datasets.catalogue()))
        if unknown:
            raise ValueError(f"unknown dataset ids {unknown}; Amazon documents {sorted(datasets.catalogue())}")
        return value

    @field_validator("realms")
    @classmethod
    def _unique(cls, value: tuple[Realm, ...]) -> tuple[Realm, ...]:
        if len(set(value)) != len(value):
            raise ValueError("a realm is listed twice")
        return value

    @model_validator(mode="after")
    def _alarm_targets(self) -> StreamConfig:
        if self.alarm_email and self.alarm_topic_arns:
            raise ValueError("alarm_email and alarm_topic_arns are alternatives; set one")
        for realm, arn in self.alarm_topic_arns.items():
            if realm not in self.realms:
                raise ValueError(f"alarm_topic_arns.{realm}: {realm} is not among the realms")
            if arn.split(":")[3] != realm.region:
                raise ValueError(f"alarm_topic_arns.{realm}: the topic must be in {realm.region}, where the alarms are")
        return self

    @classmethod
    def parse(cls, raw: object) -> StreamConfig:
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"invalid stream config: {problems}") from None
