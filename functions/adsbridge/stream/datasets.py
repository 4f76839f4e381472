"""The 23 Amazon Marketing Stream datasets: kind, columns, Amazon's aggregation keys, SNS account per realm.

Accounts come from ``data/ams_sns_source_accounts.json`` (docs/marketing-stream.md#datasets, cross-checked
against Amazon's templates); columns from ``data/dataset_columns.json`` (derived from Amazon's documented samples).
Queue policies, subscription confirmation, partitioning and the Athena views all read this one catalogue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

from adsbridge.regions import Region

Realm = Region  # Marketing Stream's word for an Amazon Ads region
DEFAULT_QUEUE_PREFIX = "adsbridge-"  # queue name = prefix + dataset id, unless the stream config says otherwise
QUEUE_PREFIX_PATTERN = r"^[A-Za-z0-9_-]{1,20}-$"  # what the stream config's queue_prefix may be


class Kind(StrEnum):
    METRIC = "metric"  # hourly deltas with idempotency_id: dedup, then SUM
    ENTITY = "entity"  # change events with a version: keep the latest per id
    OTHER = "other"  # budget usage and recommendations: kept as received


@dataclass(frozen=True)
class Column:
    name: str  # lower case, as Glue/Athena store it
    type: str  # Hive type: string, bigint, double, boolean (nested JSON is kept as string)
    keys: tuple[str, ...]  # the JSON key spellings Amazon uses for it


@dataclass(frozen=True)
class Dataset:
    id: str
    kind: Kind
    columns: tuple[Column, ...]
    accounts: dict[Realm, str]  # SNS publisher account per realm
    keys: tuple[str, ...] = ()  # SQL: METRIC Amazon's hourly grouping key; ENTITY/budget the identity
    order_by: tuple[str, ...] = ()  # ENTITY/budget: newest first

    @property
    def table(self) -> str:
        return self.id.replace("-", "_")

    @property
    def measures(self) -> tuple[str, ...]:
        """Metric columns to SUM (every numeric column of a metric dataset)."""
        return tuple(c.name for c in self.columns if c.type in ("bigint", "double")) if self.is_metric else ()

    @property
    def is_metric(self) -> bool:
        return self.kind is Kind.METRIC

    @property
    def is_dsp(self) -> bool:
        """DSP datasets are subscribed per DSP advertiser under ``/dsp/streams``.

        See docs/marketing-stream.md#subscriptions-api.
        """
        return self.id.startswith("adsp-")

    def sns_source_arn(self, realm: Realm) -> str:
        return f"arn:aws:sns:{realm.aws_region}:{self.accounts[realm]}:*"


_DATA = resources.files("adsbridge.stream") / "data"

# Amazon's keys for SP (docs/marketing-stream.md#aggregation-keys); SD and SB by analogy with their dimensions.
_SP_KEYS = ("advertiser_id", "marketplace_id", "time_window_start", "campaign_id", "ad_group_id", "ad_id")
_SB_KEYS = (*_SP_KEYS, "keyword_id", "keyword_text", "keyword_type", "placement_type")
_METRIC_KEYS: dict[str, tuple[str, ...]] = {
    "sp-traffic": (*_SP_KEYS, "keyword_id", "keyword_text", "placement", "currency"),
    "sp-conversion": (*_SP_KEYS, "keyword_id", "placement", "currency"),
    "sd-traffic": (*_SP_KEYS, "target_id", "targeting_text", "currency"),
    "sd-conversion": (*_SP_KEYS, "target_id", "currency"),
    "sb-traffic": (*_SB_KEYS, "currency"),
    "sb-conversion": (*_SB_KEYS, "currency"),
    "sb-clickstream": _SB_KEYS,
    "sb-rich-media": _SB_KEYS,
}
# Latest version per entity (docs/marketing-stream.md#entity-datasets); DSP ad-group targets arrive one target
# type per message, so the type is part of the identity (ANALYSIS: Amazon does not say whether versions are
# per ad group or per target type).
_ENTITY_IDS: dict[str, tuple[str, ...]] = {
    "campaigns": ("campaignid",),
    "adgroups": ("adgroupid",),
    "ads": ("adid",),
    "targets": ("targetid",),
    "adsp-campaigns": ("campaignid",),
    "adsp-campaign-flights": ("flightid",),
    "adsp-adgroups": ("adgroupid",),
    "adsp-adgroup-targets": ("adgroupid", "target_type"),
}
_BUDGET_SCOPE = ("advertiser_id", "marketplace_id", "budget_scope_type", "budget_scope_id")


@cache
def catalogue() -> dict[str, Dataset]:
    accounts = json.loads((_DATA / "ams_sns_source_accounts.json").read_text())["accounts"]
    columns = json.loads((_DATA / "dataset_columns.json").read_text())["columns"]
    found: dict[str, Dataset] = {}
    for dataset_id, spec in columns.items():
        cols = tuple(Column(name, kind, tuple(keys)) for name, (kind, *keys) in spec.items())
        by_realm = {Realm(realm): entry["account"] for realm, entry in accounts[dataset_id].items()}
        found[dataset_id] = _describe(dataset_id, cols, by_realm)
    if set(found) != set(accounts):
        raise ValueError(f"dataset catalogue mismatch: {sorted(set(found) ^ set(accounts))}")
    return found


def _describe(dataset_id: str, cols: tuple[Column, ...], accounts: dict[Realm, str]) -> Dataset:
    names = {c.name for c in cols}
    if dataset_id in _ENTITY_IDS:
        identity = tuple(_target_type(cols) if key == "target_type" else key for key in _ENTITY_IDS[dataset_id])
        return Dataset(dataset_id, Kind.ENTITY, cols, accounts, identity, ("version", "_received_at"))
    if "idempotency_id" in names:
        keys = _METRIC_KEYS.get(dataset_id) or _dsp_dimensions(cols)
        missing = set(keys) - names
        if missing:
            raise ValueError(f"{dataset_id}: aggregation keys not among its columns: {sorted(missing)}")
        return Dataset(dataset_id, Kind.METRIC, cols, accounts, keys)
    if dataset_id == "budget-usage":
        return Dataset(
            dataset_id, Kind.OTHER, cols, accounts, _BUDGET_SCOPE, ("usage_updated_timestamp", "_received_at")
        )
    return Dataset(dataset_id, Kind.OTHER, cols, accounts)


def _target_type(cols: tuple[Column, ...]) -> str:
    """SQL naming which ``*Targets`` list a DSP ad-group-targets message carries."""
    arms = " ".join(f"WHEN {c.name} IS NOT NULL THEN '{c.name}'" for c in cols if c.name.endswith("targets"))
    return f"CASE {arms} END"


def _dsp_dimensions(cols: tuple[Column, ...]) -> tuple[str, ...]:
    """DSP metrics have no documented grouping key: every string dimension (ANALYSIS).

    See docs/marketing-stream.md#aggregation-keys.
    """
    return tuple(c.name for c in cols if c.type == "string" and c.name not in ("idempotency_id", "dataset_id"))


def get(dataset_id: str) -> Dataset:
    try:
        return catalogue()[dataset_id]
    except KeyError:
        raise UnknownDataset(dataset_id) from None


class UnknownDataset(KeyError):
    """A dataset id outside the 23 Amazon documents."""
