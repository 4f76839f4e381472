"""A seeded, realistic Marketing Stream: what Amazon delivers hour by hour, and the truth behind it.

Metric datasets get hourly deltas with restatements (same key and hour, a new idempotency_id) and negative
corrections, in each advertiser's own UTC offset; most conversions share the key of that hour's traffic; entities (campaigns) new versions; budget usage fresh percentages. About a fifth of the
deliveries repeat an earlier message (at-least-once), some arrive an hour or two late, half in SNS envelopes.
Money is in quarter units, so float sums are exact in any order and a check can compare with ``==``.
The stream integration tests and ``adsbridge demo`` both use it, so the demo shows what the tests prove.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from adsbridge.stream.datasets import Dataset, Kind

OFFSETS = ("-08:00", "-07:00", "+09:00", "+01:00", "+00:00")
SNS_TOPIC = "arn:aws:sns:us-east-1:906013806264:t"
STATES = ("ENABLED", "ENABLED", "ENABLED", "PAUSED", "ARCHIVED")
ATTRIBUTED = 0.85  # share of conversions credited to traffic already generated for that hour
_FIXED = {"marketplace_id": ("ATVPDKIKX0DER",), "currency": ("USD",), "match_type": ("EXACT", "BROAD", "PHRASE")}
_FIXED |= {"placement": ("Top of Search on-Amazon", "Detail Page on-Amazon", "Other on-Amazon")}
_POOLS = {"advertiser_id": ("ENTITY", 3), "campaign_id": ("c", 4), "ad_group_id": ("g", 2), "ad_id": ("a", 2)}
_POOLS |= {"keyword_id": ("k", 3), "target_id": ("t", 3)}
_SCALE = {"impressions": 200, "view_impressions": 150, "clicks": 5, "cost": 40}  # others: up to 3, or 80 halves


@dataclass(frozen=True)
class Delivery:
    """One SQS message as Amazon's SNS subscription delivers it."""

    dataset_id: str
    body: str
    sent_at: datetime


@dataclass(frozen=True)
class Stream:
    deliveries: list[Delivery]  # in arrival order
    unique: list[dict[str, Any]]  # the distinct Amazon records behind them

    def hourly_truth(self, dataset: Dataset) -> dict[tuple[Any, ...], dict[str, Any]]:
        """The true hourly sums per Amazon key, keyed like ``duck.hourly``: (keys..., dt, hour) in UTC."""
        sums: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(lambda: defaultdict(int))
        for fields in self._of(dataset):
            utc = datetime.fromisoformat(fields["time_window_start"]).astimezone(UTC)
            key = (*(fields[k] for k in dataset.keys), utc.strftime("%Y-%m-%d"), utc.strftime("%H"))
            for measure in dataset.measures:
                sums[key][measure] += fields.get(measure, 0)
        return {k: dict(v) for k, v in sums.items()}

    def latest_states(self, dataset: Dataset) -> dict[str, str]:
        """campaign id → the state of its highest version."""
        newest: dict[str, dict[str, Any]] = {}
        for fields in self._of(dataset):
            seen = newest.get(fields["campaignId"])
            if seen is None or fields["version"] > seen["version"]:
                newest[fields["campaignId"]] = fields
        return {campaign: fields["state"] for campaign, fields in newest.items()}

    def latest_budget_usage(self, dataset: Dataset) -> dict[tuple[str, ...], tuple[float, float, str]]:
        """Budget scope (the dataset's identity keys) → (budget, usage %, updated at) of its newest usage."""
        newest: dict[tuple[str, ...], dict[str, Any]] = {}
        for fields in self._of(dataset):
            scope = tuple(fields[k] for k in dataset.keys)
            seen = newest.get(scope)
            if seen is None or _updated(fields) > _updated(seen):
                newest[scope] = fields
        return {
            scope: (fields["budget"], fields["budget_usage_percentage"], fields["usage_updated_timestamp"])
            for scope, fields in newest.items()
        }

    def _of(self, dataset: Dataset) -> list[dict[str, Any]]:
        return [fields for fields in self.unique if fields["dataset_id"] == dataset.id]


def generate(rng: random.Random, total: int, chosen: Sequence[Dataset], *, start: datetime, hours: int = 48) -> Stream:
    """``total`` deliveries over ``hours`` hours from ``start`` (UTC), spread over the ``chosen`` datasets."""
    unique_count = total * 8 // 10
    versions: dict[str, int] = defaultdict(int)
    updates: set[tuple[str, datetime]] = set()  # (budget scope, updated at) already generated
    traffic: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)  # (traffic dataset, hour) → records
    unique: list[tuple[int, dict[str, Any]]] = []  # (hour index, record)
    while len(unique) < unique_count:
        dataset, hour = rng.choice(chosen), rng.randrange(hours)
        window = start + timedelta(hours=hour)
        if dataset.kind is Kind.METRIC:
            fields = _metric(rng, dataset, window)
            earlier = traffic.get((dataset.id.replace("-conversion", "-traffic"), hour))
            if dataset.id.endswith("-conversion") and earlier and rng.random() < ATTRIBUTED:
                clicked = rng.choice(earlier)  # a conversion credited to traffic of the same key and hour
                fields |= {k: clicked[k] for k in dataset.keys if k in clicked}
            elif dataset.id.endswith("-traffic"):
                traffic[(dataset.id, hour)].append(fields)
            unique.append((hour, fields))
            if rng.random() < 0.15:  # a restatement of the same key and hour, delivered later
                restated = {**_metric(rng, dataset, window), **{k: fields[k] for k in dataset.keys}}
                unique.append((min(hour + rng.randrange(1, 3), hours - 1), restated))
        elif dataset.kind is Kind.ENTITY:
            campaign = f"c{rng.randrange(4)}"
            versions[campaign] += 1
            unique.append((hour, _campaign(rng, dataset, campaign, versions[campaign])))
        else:
            unique.append((hour, _budget(rng, dataset, window, updates)))
    unique = unique[:unique_count]
    repeats = [rng.choice(unique) for _ in range(total - len(unique))]
    timed = [(start + timedelta(hours=hour, seconds=rng.randrange(5400)), f) for hour, f in unique + repeats]
    timed.sort(key=lambda pair: pair[0])
    deliveries = [Delivery(f["dataset_id"], _body(rng, i, f), sent) for i, (sent, f) in enumerate(timed)]
    return Stream(deliveries, [fields for _, fields in unique])


def _metric(rng: random.Random, dataset: Dataset, window: datetime) -> dict[str, Any]:
    sign = -1 if rng.random() < 0.1 else 1  # negative corrections
    fields: dict[str, Any] = {"idempotency_id": str(uuid.UUID(int=rng.getrandbits(128))), "dataset_id": dataset.id}
    for column in dataset.columns:
        name = column.name
        if name in _POOLS:
            prefix, size = _POOLS[name]
            fields[name] = f"{prefix}{rng.randrange(size)}"
        elif name in _FIXED:
            fields[name] = rng.choice(_FIXED[name])
    # Amazon states the window in the advertiser's marketplace offset: one offset per advertiser
    advertiser = fields.get("advertiser_id")
    offset = OFFSETS[int(advertiser[-1]) % len(OFFSETS)] if advertiser else rng.choice(OFFSETS)
    local = window.astimezone(datetime.fromisoformat(f"2000-01-01T00:00:00{offset}").tzinfo)
    fields["time_window_start"] = local.isoformat()
    for name in ("keyword_text", "targeting_text"):
        source = fields.get("keyword_id") if name == "keyword_text" else fields.get("target_id")
        if name in {c.name for c in dataset.columns}:
            fields[name] = f"text-{source}"
    for column in dataset.columns:
        if column.name in dataset.measures:
            if column.type == "double":
                unit = 0.25 if column.name == "cost" else 0.5
                fields[column.name] = sign * rng.randrange(_SCALE.get(column.name, 80)) * unit
            else:
                fields[column.name] = sign * rng.randrange(_SCALE.get(column.name, 3))
    return fields


def _campaign(rng: random.Random, dataset: Dataset, campaign: str, version: int) -> dict[str, Any]:
    return {
        "dataset_id": dataset.id,
        "advertiser_id": "ENTITY0",
        "marketplace_id": "ATVPDKIKX0DER",
        "campaignId": campaign,
        "adProduct": "SPONSORED_PRODUCTS",
        "name": f"Campaign {campaign}",
        "state": rng.choice(STATES),
        "version": version,
    }


def _budget(
    rng: random.Random, dataset: Dataset, window: datetime, updates: set[tuple[str, datetime]]
) -> dict[str, Any]:
    """A fresh usage; never two for one scope in the same second, so each scope's latest is well defined."""
    updated = window + timedelta(seconds=rng.randrange(3600))
    scope = f"c{rng.randrange(4)}"
    while (scope, updated) in updates:
        updated = window + timedelta(seconds=rng.randrange(3600))
    updates.add((scope, updated))
    return {
        "dataset_id": dataset.id,
        "advertiser_id": "ENTITY0",
        "marketplace_id": "ATVPDKIKX0DER",
        "budget_scope_type": "CAMPAIGN",
        "budget_scope_id": scope,
        "advertising_product_type": "SPONSORED_PRODUCTS",
        "budget": 100.0,
        "budget_usage_percentage": rng.randrange(400) * 0.25,
        "usage_updated_timestamp": updated.isoformat().replace("+00:00", "Z"),
    }


def _updated(fields: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(fields["usage_updated_timestamp"])


def _body(rng: random.Random, index: int, fields: dict[str, Any]) -> str:
    """Raw message delivery or, for about half, the SNS envelope around it."""
    body = json.dumps(fields)
    if rng.random() < 0.5:
        return body
    envelope = {"Type": "Notification", "MessageId": f"sns-{index}", "TopicArn": SNS_TOPIC, "Message": body}
    return json.dumps(envelope)
