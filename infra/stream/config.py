"""Which realms and datasets to stream; a bad value fails synthesis with a message naming the field."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from adsbridge import marketplaces
from adsbridge.stream import datasets
from adsbridge.stream.datasets import DEFAULT_QUEUE_PREFIX, QUEUE_PREFIX_PATTERN, Realm
from adsbridge.stream.queues import INGEST_TIMEOUT_SECONDS
from infra.stream.v2_config import Realms, V2Config

Delivery = Literal["sqs", "firehose"]  # how Amazon delivers v1 datasets into the raw bucket (infra/stream/firehose.py)

# ASCII digits: the pattern engine's \d also takes other scripts' digits (１２３), which no Amazon id holds
SNS_TOPIC_ARN = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$"


class ConfigError(ValueError):
    """The stream config is invalid; the message names the field."""


class SubscriptionConfig(BaseModel):
    """Subscribe one sponsored-ads profile or DSP advertiser to ``datasets`` (default: every deployed one of its kind)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile_id: Annotated[str, Field(pattern=r"^[0-9]{1,20}$")] | None = None
    dsp_advertiser_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    realm: Realm | None = None  # required when the stack has several realms: a profile belongs to one
    datasets: tuple[str, ...] | None = None

    @field_validator("profile_id", "dsp_advertiser_id", mode="before")
    @classmethod
    def _exact_id(cls, value: object) -> object:
        # A JSON integer is exact in Python but not in CDK's JavaScript, which would round a 19-digit id to
        # another owner's: it travels on as its digit string. A float is already rounded and stays refused.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _one_owner(self) -> SubscriptionConfig:
        if (self.profile_id is None) == (self.dsp_advertiser_id is None):
            raise ValueError("set exactly one of profile_id and dsp_advertiser_id")
        return self

    @property
    def owner_id(self) -> str:
        return self.profile_id or self.dsp_advertiser_id or ""

    @property
    def dsp(self) -> bool:
        return self.dsp_advertiser_id is not None


class StreamConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    realms: Realms
    marketplaces: tuple[str, ...] = ()  # Amazon's country codes: they derive the realms (``_realms_of_marketplaces``)
    datasets: Annotated[tuple[str, ...], Field(min_length=1)] = tuple(datasets.catalogue())
    queue_prefix: Annotated[str, Field(pattern=QUEUE_PREFIX_PATTERN)] = DEFAULT_QUEUE_PREFIX
    lambda_timeout_seconds: Annotated[int, Field(ge=10, le=900)] = INGEST_TIMEOUT_SECONDS
    ingest_memory_mb: Annotated[int, Field(ge=128, le=10_240)] = 1024  # bench/ingest_bench.py prices this
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = 10_000
    batching_window_seconds: Annotated[int, Field(ge=1, le=300)] = 60
    # Ingest instances per queue (the event source's MaximumConcurrency): one dataset's burst cannot take the
    # account's Lambda concurrency, and the event source stops at this many instead of being throttled, which
    # would return messages to the queue and count their receives towards the DLQ.
    ingest_max_concurrency: Annotated[int, Field(ge=2, le=1000)] = 5
    # Where alarms go: an encrypted topic per realm that emails this address, or the operator's own topic per
    # realm (an alarm can only notify a topic in its own region). Neither: the encrypted topic is created anyway, so
    # every alarm has an action, and the operator subscribes to it (stack output AlarmTopicArn).
    alarm_email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    alarm_topic_arns: dict[Realm, Annotated[str, Field(pattern=SNS_TOPIC_ARN)]] = Field(default_factory=dict)
    # Subscriptions as code: a custom resource per (owner, dataset), calling Amazon with the LwA credentials in
    # this Secrets Manager secret (written by `adsbridge auth exchange`), in each realm's region.
    secret_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9/_+=.@-]{1,512}$")] | None = None
    subscriptions: tuple[SubscriptionConfig, ...] = ()
    delivery: Delivery | dict[Realm, Delivery] = "sqs"  # one for every realm, or per realm (absent ones: sqs)
    v2: V2Config | None = None  # Stream v2 landing: a StreamV2Stack per (realm, region) (infra/stream/v2_stack.py)

    @model_validator(mode="before")
    @classmethod
    def _realms_of_marketplaces(cls, raw: object) -> object:
        """``realms`` from ``marketplaces`` (docs/marketing-stream.md#realms-and-regions); both given must agree."""
        codes = raw.get("marketplaces") if isinstance(raw, dict) else None
        if not (isinstance(raw, dict) and isinstance(codes, list | tuple) and all(isinstance(c, str) for c in codes)):
            return raw  # absent, or a type the fields themselves refuse
        try:
            derived = marketplaces.realms_of(codes)
        except marketplaces.UnknownMarketplace as exc:
            raise ValueError(f"marketplaces: {exc}") from None
        given = raw.get("realms")
        if not isinstance(given, list | tuple):
            return {**raw, "realms": given or list(derived)}
        if {str(r) for r in given} != set(derived):
            raise ValueError(
                f"realms {list(given)} disagree with marketplaces {list(codes)}, which need {[str(r) for r in derived]}"
            )
        return raw

    @field_validator("datasets")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(datasets.catalogue()))
        if unknown:
            raise ValueError(f"unknown dataset ids {unknown}; Amazon documents {sorted(datasets.catalogue())}")
        return value

    @model_validator(mode="after")
    def _delivery_realms(self) -> StreamConfig:
        for realm in self.delivery if isinstance(self.delivery, dict) else ():
            if realm not in self.realms:
                raise ValueError(f"delivery.{realm}: {realm} is not among the realms")
        return self

    def delivery_in(self, realm: Realm) -> Delivery:
        return self.delivery.get(realm, "sqs") if isinstance(self.delivery, dict) else self.delivery

    @model_validator(mode="after")
    def _alarm_targets(self) -> StreamConfig:
        if self.alarm_email and self.alarm_topic_arns:
            raise ValueError("alarm_email and alarm_topic_arns are alternatives; set one")
        for realm, arn in self.alarm_topic_arns.items():
            if realm not in self.realms:
                raise ValueError(f"alarm_topic_arns.{realm}: {realm} is not among the realms")
            if arn.split(":")[3] != realm.aws_region:
                raise ValueError(
                    f"alarm_topic_arns.{realm}: the topic must be in {realm.aws_region}, where the alarms are"
                )
        return self

    @model_validator(mode="after")
    def _subscriptions(self) -> StreamConfig:
        if (self.subscriptions or (self.v2 and self.v2.subscriptions)) and not self.secret_name:
            raise ValueError("subscriptions need secret_name: the secret holding the LwA credentials")
        for n, sub in enumerate(self.subscriptions):
            if sub.realm is None and len(self.realms) > 1:
                raise ValueError(f"subscriptions.{n}.realm is required when several realms are deployed")
            if sub.realm is not None and sub.realm not in self.realms:
                raise ValueError(f"subscriptions.{n}.realm: {sub.realm} is not among the realms")
            for dataset_id in sub.datasets or ():
                if dataset_id not in self.datasets:
                    raise ValueError(f"subscriptions.{n}.datasets: {dataset_id} is not among the deployed datasets")
                if datasets.get(dataset_id).is_dsp != sub.dsp:
                    need = "profile_id" if sub.dsp else "dsp_advertiser_id"
                    raise ValueError(f"subscriptions.{n}.datasets: {dataset_id} needs {need}")
        return self

    def subscriptions_in(self, realm: Realm) -> list[tuple[SubscriptionConfig, str]]:
        """(owner, dataset id) pairs to subscribe in ``realm``."""
        return [
            (sub, dataset_id)
            for sub in self.subscriptions
            if (sub.realm or self.realms[0]) == realm
            for dataset_id in sub.datasets or [d for d in self.datasets if datasets.get(d).is_dsp == sub.dsp]
        ]

    @classmethod
    def parse(cls, raw: object) -> StreamConfig:
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"invalid stream config: {problems}") from None
