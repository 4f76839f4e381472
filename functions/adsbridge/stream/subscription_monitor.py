"""Scheduled Lambda: count the Marketing Stream subscriptions of the stack's owners by status, as metrics.

Amazon changes a subscription's status on its own (FAILED_CONFIRMATION when nobody confirmed, SUSPENDED when
the queue or the token's user broke it, docs/marketing-stream.md#subscription-statuses), and says so nowhere but the
API; StreamStack alarms on these counts. Every status is reported, zeros included, so an alarm always has data.
``StalePending`` counts subscriptions still PENDING_CONFIRMATION a day after creation: the confirmation never
reached the queue (usually the queue policy, docs/marketing-stream.md#confirmation) or the ingest function refused it.

Environment: ``SECRET_NAME``, ``REALM``, ``OWNERS`` (JSON ``[{"id": "...", "dsp": false}]``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from aws_lambda_powertools import Logger, Metrics

from adsbridge import METRICS_NAMESPACE
from adsbridge.ads import Owner, StreamsClient
from adsbridge.ads.streams import STATUSES
from adsbridge.stream.datasets import Realm

logger = Logger()
metrics = Metrics(namespace=METRICS_NAMESPACE)
STALE_AFTER = timedelta(hours=24)
STALE = "STALE_PENDING"  # not an Amazon status: PENDING_CONFIRMATION for over STALE_AFTER


def metric_name(status: str) -> str:
    """``SUSPENDED`` → ``SubscriptionsSuspended``; the alarms in infra/stream/operations.py use the same names."""
    return "Subscriptions" + status.title().replace("_", "")


def survey(client: StreamsClient, owners: Iterable[Owner], now: datetime) -> Counter[str]:
    counts: Counter[str] = Counter(dict.fromkeys((*STATUSES, STALE), 0))
    for owner in owners:
        for sub in client.list(owner):
            counts[sub.status] += 1
            if sub.status == "PENDING_CONFIRMATION" and now - _created(sub.created, now) > STALE_AFTER:
                counts[STALE] += 1
                logger.warning("subscription pending for over a day", extra={"subscription": sub.to_json()})
            elif sub.status in ("FAILED_CONFIRMATION", "FAILED_PROVISIONING", "SUSPENDED"):
                logger.warning("subscription needs attention", extra={"subscription": sub.to_json()})
    return counts


def _created(text: str, now: datetime) -> datetime:
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        return now  # no usable date: never call it stale


def run(client_for: Callable[[Realm], StreamsClient], env: dict[str, str], now: datetime) -> Counter[str]:
    owners = [Owner(str(o["id"]), dsp=bool(o.get("dsp"))) for o in json.loads(env["OWNERS"])]
    return survey(client_for(Realm(env["REALM"])), owners, now)
