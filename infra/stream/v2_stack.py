"""StreamV2Stack: one per (realm, AWS region) configured in ``stream.v2``, pinned to that region.

It holds the landing Amazon's v2 template requires (infra/stream/v2_landing.py), its catalog, and the alarm topic
the landing's, the catalog's and the subscriptions' alarms notify (an alarm reaches only topics in its own region,
so an operator topic of the realm's primary region serves only a landing in that region; elsewhere the stack's own
topic emails ``alarm_email``).

Where the realm's v1 StreamStack deploys ``sp-traffic`` in the same region, the catalog's views include
``sp_v1_v2_hourly``, which reads v1's ``sp_traffic_hourly`` by its database's name (a plain string, fixed by the
config: no CloudFormation export between the stacks), and the stack deploys after the v1 one, since Athena checks a
view's sources when it creates the view. In any other region there is no such view: the Glue Data Catalog is per
region and Athena resolves a view's tables in its own region's catalog, and v1 lives only in its realm's region.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk

from adsbridge.stream import datasets
from adsbridge.stream.datasets import Realm
from adsbridge.stream.v2.views import V1_SP_TRAFFIC
from adsbridge.stream.views import hourly_view
from constructs import Construct
from infra.constructs.alarm_topic import alarm_topics
from infra.constructs.region_rule import deploy_only_in
from infra.stream.config import StreamConfig
from infra.stream.stack import StreamStack
from infra.stream.v2_catalog import StreamV2Catalog
from infra.stream.v2_landing import StreamV2Landing
from infra.stream.v2_subscriptions import StreamV2Subscriptions


class StreamV2Stack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        realm: Realm,
        region: str,
        config: StreamConfig,
        v1: StreamStack | None = None,
    ) -> None:
        """``v1``: the realm's v1 StreamStack, if one is configured."""
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
        self.v1_database = _v1_sp_database(region, v1)
        if v1 is not None and self.v1_database is not None:
            self.add_dependency(v1, reason=f"sp_v1_v2_hourly reads {self.v1_database}, which must exist first")
        self.catalog = StreamV2Catalog(
            self,
            "Catalog",
            name=f"adsbridge-stream-v2-{realm.value.lower()}-{region}",
            bucket=self.landing.bucket,
            key=self.landing.key,
            queue=self.landing.queue,
            alarm_topics=self.alarm_topics,
            v1_database=self.v1_database,
        )
        self.subscriptions = _subscriptions(self, realm, region, config)


def _v1_sp_database(region: str, v1: StreamStack | None) -> str | None:
    """The v1 database the SP v1/v2 view can read here: v1's, when it is in this region and has ``sp-traffic``."""
    if v1 is None or v1.region != region:
        return None
    return v1.database if hourly_view(datasets.get(V1_SP_TRAFFIC)) in v1.views.resources else None


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


def build_v2_stacks(app: cdk.App, config: StreamConfig, v1: Sequence[StreamStack] = ()) -> list[cdk.Stack]:
    """One StreamV2Stack per (realm, region) of ``stream.v2``; none without it. ``v1``: the app's v1 stacks."""
    if config.v2 is None:
        return []
    v1_of = {stack.realm: stack for stack in v1}
    return [
        StreamV2Stack(
            app,
            f"AdsbridgeStreamV2-{realm.value}-{region}",
            realm=realm,
            region=region,
            config=config,
            v1=v1_of.get(realm),
        )
        for realm, region in config.v2.landings()
    ]
