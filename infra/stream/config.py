"""Which realms and datasets to stream; a bad value fails synthesis with a message naming the field."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from adsbridge.stream import datasets
from adsbridge.stream.datasets import Realm


class ConfigError(ValueError):
    """The stream config is invalid; the message names the field."""


class StreamConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    realms: Annotated[tuple[Realm, ...], Field(min_length=1)]
    datasets: Annotated[tuple[str, ...], Field(min_length=1)] = tuple(datasets.catalogue())
    queue_prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,20}-$")] = "adsbridge-"
    lambda_timeout_seconds: Annotated[int, Field(ge=10, le=900)] = 120
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = 10_000
    batching_window_seconds: Annotated[int, Field(ge=1, le=300)] = 60

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

    @classmethod
    def parse(cls, raw: object) -> StreamConfig:
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"invalid stream config: {problems}") from None
