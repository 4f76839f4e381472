"""StreamV2Stack: one per (realm, AWS region) configured in ``stream.v2``, pinned to that region.

It holds the landing Amazon's v2 template requires (infra/stream/v2_landing.py) and the alarm topic its alarms
notify (an alarm reaches only topics in its own region, so an operator topic of the realm's primary region
serves only a landing in that region; elsewhere the stack's own topic emails ``alarm_email``).
"""

from __future__ import annotations

import aws_cdk as cdk

from adsbridge.stream.datasets import Realm
from constructs import Construct
from infra.constructs.alarm_topic import alarm_topics
from infra.constructs.region_rule import deploy_only_in
from infra.stream.config import StreamConfig
from infra.stream.v2_catalog import StreamV2Catalog
from infra.stream.v2_landing import StreamV2Landing
from infra.stream.v2_subscriptions import StreamV2Subscriptions


class StreamV2Stack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, realm: Realm, region: str, config: StreamConfig) -> None:
        super().__init__(scope, construct_id, env=cdk.Environment(region=region))
        self.realm, self.landing_region = realm, region
        deploy_only_in(self, "V2Region", region, why=f"this Stream v2 {realm} landing belongs in {region}")
        operator_topic = config.alarm_topic_arns.get(realm)
        self.alarm_topics = alarm_topics(
            self,
            "AlarmTopic",
            email=config.alarm_email,
            arns=[operator_topic] if operator_topic and operator_topic.split(":")[3] == region else [],
            description=f"adsbridge Stream v2 {realm} {region} alarms",
        )
        self.landing = StreamV2Landing(self, "Landing", region=region, alarm_topics=self.alarm_topics)
        self.catalog = StreamV2Catalog(
            self,
            "Catalog",
            name=f"adsbridge-stream-v2-{realm.value.lower()}-{region}",
            bucket=self.landing.bucket,
            key=self.landing.key,
            queue=self.landing.queue,
        )
        self.subscriptions = _subscriptions(self, realm, region, config)


def _subscriptions(
    stack: StreamV2Stack, realm: Realm, region: str, config: StreamConfig
) -> StreamV2Subscriptions | None:
    """The configured subscriptions landing here, after the whole landing (Amazon writes history at once)."""
    v2 = config.v2
    default_region = v2.regions_of(realm)[0] if v2 else region
    mine = [sub for sub in (v2.subscriptions if v2 else ()) if sub.lands_in(realm, region, default_region)]
    if not mine:
        return None
    return StreamV2Subscriptions(
        stack,
        "Subscriptions",
        realm=realm,
        region=region,
        default_region=default_region,
        bucket_arn=stack.landing.bucket.bucket_arn,
        queue_arn=stack.landing.queue.queue_arn,
        secret_name=config.secret_name or "",
        subscriptions=mine,
        depends_on=[stack.landing],
        alarm_topics=stack.alarm_topics,
    )


def build_v2_stacks(app: cdk.App, config: StreamConfig) -> list[cdk.Stack]:
    """One StreamV2Stack per (realm, region) of ``stream.v2``; none without it."""
    if config.v2 is None:
        return []
    return [
        StreamV2Stack(app, f"AdsbridgeStreamV2-{realm.value}-{region}", realm=realm, region=region, config=config)
        for realm, region in config.v2.landings()
    ]
