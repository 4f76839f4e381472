"""Scheduled Lambda: count the Marketing Stream subscriptions of the stack's owners by status, as metrics.

Amazon changes a subscription's status on its own (FAILED_CONFIRMATION when nobody confirmed, SUSPENDED when
the queue or the token's user broke it, docs/marketing-stream.md#subscription-statuses), and says so nowhere but the
API; StreamStack alarms on these counts. Every status is reported, zeros included, so an alarm always has data.
``StalePending`` counts subscriptions still PENDING_CONFIRMATION a day after creation: the confirmation never
reached the queue (usually the queue policy, docs/marketing-stream.md#confirmation) or the ingest function refused it.

Stream v2 subscriptions (``V2_ACCOUNTS``) are counted the same way under ``V2_<status>``
(``SubscriptionsV2Suspended``); which v2 statuses exist and which need the operator is UNVERIFIED and lives in
``adsbridge.ads.stream_v2_contract`` (STATUSES, ALARM_STATUSES).

Its environment (secret, realm, owners, v2 accounts) is ``MonitorEnvironment`` in
``adsbridge.stream.handlers.environment``; the handler passes what it parsed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

from aws_lambda_powertools import Logger, Metrics

from adsbridge import METRICS_NAMESPACE
from adsbridge.ads import Owner, StreamsClient
from adsbridge.ads import stream_v2_contract as v2
from adsbridge.ads.streams import STATUSES
from adsbridge.ads.streams_v2 import StreamsV2Client
from adsbridge.stream.datasets import Realm

logger = Logger()
metrics = Metrics(namespace=METRICS_NAMESPACE)
STALE_AFTER = timedelta(hours=24)
STALE = "STALE_PENDING"  # not an Amazon status: PENDING_CONFIRMATION for over STALE_AFTER
V2_PREFIX = "V2_"  # v2 counts: V2_ACTIVE → SubscriptionsV2Active


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


def survey_v2(client: StreamsV2Client, accounts: Iterable[str]) -> Counter[str]:
    """v2 counts per status, zeros included; the statuses that need the operator are logged with their ids."""
    counts: Counter[str] = Counter(dict.fromkeys((V2_PREFIX + status for status in v2.STATUSES), 0))
    for account in accounts:
        for sub in client.query(account):
            counts[V2_PREFIX + sub.status] += 1
            if sub.status in v2.ALARM_STATUSES:
                logger.warning("v2 subscription needs attention", extra={"subscription": sub.to_json()})
    return counts


def _created(text: str, now: datetime) -> datetime:
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        return now  # no usable date: never call it stale


def run(
    client_for: Callable[[Realm], StreamsClient],
    realm: Realm,
    owners: Sequence[Owner],
    accounts: Sequence[str],
    now: datetime,
    v2_client_for: Callable[[Realm], StreamsV2Client] | None = None,
) -> Counter[str]:
    """v1 counts for ``owners``, then v2 counts for ``accounts`` (each only when configured)."""
    counts = survey(client_for(realm), owners, now) if owners else Counter[str]()
    if accounts and v2_client_for is not None:
        counts.update(survey_v2(v2_client_for(realm), accounts))
    return counts
