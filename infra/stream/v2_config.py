"""``stream.v2``: the realms whose Stream v2 data lands in this account, and in which AWS regions.

Amazon's v2 template may be deployed only in its realm's regions (``adsbridge.ads.stream_v2_contract.REGIONS``,
docs/amazon-api-models.md#marketing-stream-v2-subscriptions); a region outside them, or under another realm,
fails synthesis naming the field and the region. A realm without ``regions`` lands in its primary region.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from adsbridge.ads.stream_v2_contract import REGIONS
from adsbridge.stream.datasets import Realm
from infra.stream.v2_subscriptions import V2SubscriptionConfig


def _distinct(value: tuple[Realm, ...]) -> tuple[Realm, ...]:
    if len(set(value)) != len(value):
        raise ValueError("a realm is listed twice")
    return value


Realms = Annotated[tuple[Realm, ...], Field(min_length=1), AfterValidator(_distinct)]  # v1's and v2's realm lists


class V2Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    realms: Realms
    regions: dict[Realm, Annotated[tuple[str, ...], Field(min_length=1)]] = Field(default_factory=dict)
    # Subscriptions as code (infra/stream/v2_subscriptions.py), with StreamConfig's secret_name.
    subscriptions: tuple[V2SubscriptionConfig, ...] = ()

    @model_validator(mode="after")
    def _allowed_regions(self) -> V2Config:
        for realm, regions in self.regions.items():
            if realm not in self.realms:
                raise ValueError(f"regions.{realm}: {realm} is not among the v2 realms")
            for region in regions:
                if region not in REGIONS[realm.value]:
                    raise ValueError(
                        f"regions.{realm}: Amazon delivers Stream v2 {realm} data only in "
                        f"{', '.join(REGIONS[realm.value])}, not {region}"
                    )
            if len(set(regions)) != len(regions):
                raise ValueError(f"regions.{realm}: a region is listed twice")
        return self

    @model_validator(mode="after")
    def _subscriptions_land(self) -> V2Config:
        for n, sub in enumerate(self.subscriptions):
            if sub.realm is None and len(self.realms) > 1:
                raise ValueError(f"subscriptions.{n}.realm is required when several realms land v2 data")
            if sub.realm is not None and sub.realm not in self.realms:
                raise ValueError(f"subscriptions.{n}.realm: {sub.realm} is not among the v2 realms")
            realm = sub.realm or self.realms[0]
            if sub.region is not None and sub.region not in self.regions_of(realm):
                raise ValueError(f"subscriptions.{n}.region: {sub.region} is not a v2 landing region of {realm}")
        return self

    def regions_of(self, realm: Realm) -> tuple[str, ...]:
        """The realm's landing regions: the configured ones, else its primary one; the first is its default."""
        return self.regions.get(realm, (realm.aws_region,))

    def landings(self) -> list[tuple[Realm, str]]:
        """Every (realm, AWS region) to land v2 data in: the configured regions, else the realm's primary one."""
        return [(realm, region) for realm in self.realms for region in self.regions_of(realm)]
