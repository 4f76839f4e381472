"""Marketing Stream subscriptions as code: one custom resource per (profile or DSP advertiser, dataset), and an
hourly monitor that counts those owners' subscriptions by status (the alarms are in infra/stream/operations.py).

``adsbridge.stream.subscription_resource`` calls Amazon's subscriptions API with the LwA credentials in the
configured secret. Each resource depends on its queue's policy: Amazon sends the SNS confirmation as soon as
it subscribes, and without the policy that message is refused and the subscription never becomes ACTIVE. With
Firehose delivery it names the delivery stream and Amazon's two roles instead (infra/stream/firehose.py), and
waits for them: Amazon assumes the subscriber role as it subscribes.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs

from adsbridge.stream.datasets import Realm
from adsbridge.stream.handlers.environment import MonitorEnvironment
from constructs import Construct, IDependable
from infra.stream.config import StreamConfig
from infra.stream.firehose import FirehoseDelivery
from infra.stream.subscription_functions import SubscriptionResources, hourly_monitor

MONITOR_SERVICE = "stream-subscriptions-monitor"  # Powertools service: the "service" dimension of its metrics


class StreamSubscriptions(Construct):
    """``resources`` maps ``"<owner id>/<dataset id>"`` → its custom resource."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        realm: Realm,
        config: StreamConfig,
        queues: dict[str, sqs.Queue],
        firehose: FirehoseDelivery | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        secret_name = config.secret_name or ""
        subscribing = SubscriptionResources(
            self,
            handler="adsbridge.stream.handlers.subscription_resource.lambda_handler",
            service="stream-subscriptions",
            description=f"adsbridge Marketing Stream subscriptions ({realm})",
            secret_name=secret_name,
            resource_type="Custom::MarketingStreamSubscription",
        )

        self.resources: dict[str, cdk.CustomResource] = {}
        for sub, dataset_id in config.subscriptions_in(realm):
            self.resources[f"{sub.owner_id}/{dataset_id}"] = subscribing.add(
                f"Subscription-{'dsp-' if sub.dsp else ''}{sub.owner_id}-{dataset_id}",
                {
                    "Realm": realm.value,
                    "OwnerId": sub.owner_id,
                    "Dsp": "true" if sub.dsp else "false",
                    "DatasetId": dataset_id,
                    **_destination(dataset_id, queues, firehose),
                },
                after=_awaited(dataset_id, queues, firehose),
            )

        owners = {(sub.owner_id, sub.dsp) for sub, _ in config.subscriptions_in(realm)}
        self.monitor = hourly_monitor(
            self,
            service=MONITOR_SERVICE,
            description=f"adsbridge Marketing Stream subscription monitor ({realm})",
            environment=MonitorEnvironment.variables(
                secret_name=secret_name,
                realm=realm.value,
                owners=json.dumps([{"id": owner, "dsp": dsp} for owner, dsp in sorted(owners)]),
            ),
            grant=subscribing.grant,
        )


def _awaited(dataset_id: str, queues: dict[str, sqs.Queue], firehose: FirehoseDelivery | None) -> list[IDependable]:
    """What Amazon needs in place as it subscribes (module docstring)."""
    if firehose:
        return [firehose.subscription_roles[dataset_id], firehose.subscriber_roles[dataset_id]]
    return [queues[dataset_id].node.find_child("Policy")]  # StreamStack's QueuePolicy


def _destination(dataset_id: str, queues: dict[str, sqs.Queue], firehose: FirehoseDelivery | None) -> dict[str, str]:
    """The resource properties naming where Amazon delivers (adsbridge.stream.subscription_resource)."""
    if firehose is None:
        return {"QueueArn": queues[dataset_id].queue_arn}
    return {
        "DeliveryStreamArn": firehose.streams[dataset_id].attr_arn,
        "SubscriptionRoleArn": firehose.subscription_roles[dataset_id].role_arn,
        "SubscriberRoleArn": firehose.subscriber_roles[dataset_id].role_arn,
    }
