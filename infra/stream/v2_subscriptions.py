"""Stream v2 subscriptions as code: a custom resource per (advertiser account, dataset) into one landing bucket
and notification queue, and the hourly monitor counting those accounts' v2 subscriptions, with alarms.

``adsbridge.stream.v2_subscription_resource`` calls Amazon's v2 subscriptions API with the LwA credentials in
the configured secret. Each resource waits for what the caller names in ``depends_on`` (the landing bucket's and
queue's policies): Amazon writes the history as soon as it subscribes, and its PublisherRole needs those grants.
Config entry (``stream.v2.subscriptions``): ``{"advertiser_account_id": "amzn1.ads-account.g.…", "datasets":
["ads-performance-v1"], "realm": "NA", "region": "us-east-1"}`` (realm required when several realms land v2;
region, one of the realm's landing regions, defaults to its first).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_sns as sns
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from adsbridge.ads import stream_v2_contract as v2
from adsbridge.stream.datasets import Realm
from adsbridge.stream.handlers.environment import MonitorEnvironment
from adsbridge.stream.subscription_monitor import V2_PREFIX, metric_name
from constructs import Construct, IDependable
from infra.constructs.metric_alarm import alarm_above
from infra.stream.operations import MONITOR_PERIOD, subscription_metric
from infra.stream.subscription_functions import SubscriptionResources, hourly_monitor

V2_MONITOR_SERVICE = "stream-v2-subscriptions-monitor"  # Powertools service: the "service" dimension of its metrics


class V2SubscriptionConfig(BaseModel):
    """Subscribe one advertiser account to v2 ``datasets`` in ``realm`` (required when several realms deploy v2)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    advertiser_account_id: Annotated[str, Field(pattern=f"^{v2.ADVERTISER_ACCOUNT_ID.pattern}$")]
    datasets: Annotated[tuple[str, ...], Field(min_length=1)] = (v2.DATASET_PERFORMANCE,)
    realm: Realm | None = None
    region: str | None = None  # one of the realm's v2 landing regions; default: the realm's first

    @model_validator(mode="after")
    def _region_of_realm(self) -> V2SubscriptionConfig:
        allowed = v2.REGIONS[self.realm.value] if self.realm else sorted(r for rs in v2.REGIONS.values() for r in rs)
        if self.region is not None and self.region not in allowed:
            raise ValueError(f"region: Stream v2 lands {self.realm or 'any realm'} data only in {', '.join(allowed)}")
        return self

    def lands_in(self, realm: Realm, region: str, default_region: str) -> bool:
        return self.realm in (None, realm) and (self.region or default_region) == region

    @field_validator("datasets")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - v2.DATASETS)
        if unknown or len(set(value)) != len(value):
            raise ValueError(f"v2 datasets must be distinct ids among {sorted(v2.DATASETS)}; got {list(value)}")
        return value


class StreamV2Subscriptions(Construct):
    """``resources`` maps ``"<account id>/<dataset id>"`` → its custom resource; ``alarms`` by metric name.

    One per landing (realm, region); ``default_region`` is where the realm's subscriptions without a ``region``
    land (its first landing region).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        realm: Realm,
        region: str,
        default_region: str,
        bucket_arn: str,
        queue_arn: str,
        secret_name: str,
        subscriptions: Sequence[V2SubscriptionConfig],
        depends_on: Sequence[IDependable] = (),
        alarm_topics: Sequence[sns.ITopic] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        mine = [sub for sub in subscriptions if sub.lands_in(realm, region, default_region)]
        subscribing = SubscriptionResources(
            self,
            handler="adsbridge.stream.handlers.v2_subscription_resource.lambda_handler",
            service="stream-v2-subscriptions",
            description=f"adsbridge Marketing Stream v2 subscriptions ({realm})",
            secret_name=secret_name,
            resource_type="Custom::MarketingStreamV2Subscription",
        )

        self.resources: dict[str, cdk.CustomResource] = {}
        for sub in mine:
            for dataset_id in sub.datasets:
                self.resources[f"{sub.advertiser_account_id}/{dataset_id}"] = subscribing.add(
                    f"V2Subscription-{sub.advertiser_account_id}-{dataset_id}",
                    {
                        "Realm": realm.value,
                        "AdvertiserAccountId": sub.advertiser_account_id,
                        "DatasetId": dataset_id,
                        "BucketArn": bucket_arn,
                        "QueueArn": queue_arn,
                    },
                    after=depends_on,
                )

        self.monitor = hourly_monitor(
            self,
            service=V2_MONITOR_SERVICE,
            description=f"adsbridge Marketing Stream v2 subscription monitor ({realm}, {region})",
            environment=MonitorEnvironment.variables(
                secret_name=secret_name,
                realm=realm.value,
                v2_accounts=json.dumps(sorted({sub.advertiser_account_id for sub in mine})),
            ),
            grant=subscribing.grant,
        )
        self.alarms = self._alarms(alarm_topics)

    def _alarms(self, topics: Sequence[sns.ITopic]) -> dict[str, cw.Alarm]:
        """One alarm per v2 status that needs the operator, and one when the monitor itself fails."""
        metrics: dict[str, cw.Metric] = {
            metric_name(V2_PREFIX + status): subscription_metric(V2_PREFIX + status, V2_MONITOR_SERVICE)
            for status in sorted(v2.ALARM_STATUSES)
        }
        metrics["V2SubscriptionMonitorErrors"] = self.monitor.function.metric_errors(
            period=MONITOR_PERIOD, statistic="Sum"
        )
        return {
            name: alarm_above(
                self,
                name,
                metric,
                threshold=0,
                description=f"{name}: a v2 subscription needs action (`adsbridge streams v2 list`), or the "
                "monitor failed and the v2 subscription alarms have no fresh data",
                topics=topics,
            )
            for name, metric in metrics.items()
        }
