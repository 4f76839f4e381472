"""The Athena views, rendered from the ``sql/*.sql`` files for one database and a choice of datasets.

CDK creates them in Athena and the tests run the very same statements in DuckDB: both engines accept this
SQL (window functions, ``IS NOT DISTINCT FROM``, ``CREATE OR REPLACE VIEW``), and dt/hour already hold the
UTC hour, so no dialect-specific time functions are needed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from string import Template

from adsbridge.stream.datasets import Dataset, Kind

_SQL = resources.files("adsbridge.stream") / "sql"
OUR_COLUMNS = ("_received_at", "_message_id", "_realm")  # what ingest adds to every record
PARTITION_KEYS = ("dt", "hour")  # time_window_start's UTC day and hour
# (traffic, conversion, view) pairs joined hourly.
PERFORMANCE = (
    ("sp-traffic", "sp-conversion", "sp_performance_hourly"),
    ("sd-traffic", "sd-conversion", "sd_performance_hourly"),
)
BUDGET_USAGE = "budget-usage"
# A budget notice is its scope (the dataset's keys) at one usage level and moment: a copy delivered again repeats
# all three (docs/marketing-stream.md#budget-usage).
BUDGET_NOTICE = ("usage_updated_timestamp", "budget_usage_percentage")


class Source(StrEnum):
    """Our per-dataset views, named ``<table>_<source>``."""

    DEDUP = "dedup"  # metric deltas, one row per idempotency_id
    LATEST = "latest"  # entities and budget scopes: the newest row each
    HISTORY = "history"  # budget notices: every distinct one, repeats dropped


# Openbridge's 13 Marketing Stream tables → (our dataset, the view its name reads); why each view:
# docs/marketing-stream.md#coming-from-openbridge.
OPENBRIDGE: dict[str, tuple[str, Source]] = {
    "amzn_stream_adgroups": ("adgroups", Source.LATEST),
    "amzn_stream_ads": ("ads", Source.LATEST),
    "amzn_stream_budget_usage": (BUDGET_USAGE, Source.HISTORY),
    "amzn_stream_campaigns": ("campaigns", Source.LATEST),
    "amzn_stream_sb_clickstream": ("sb-clickstream", Source.DEDUP),
    "amzn_stream_sb_conversion": ("sb-conversion", Source.DEDUP),
    "amzn_stream_sb_rich_media": ("sb-rich-media", Source.DEDUP),
    "amzn_stream_sb_traffic": ("sb-traffic", Source.DEDUP),
    "amzn_stream_sd_conversion": ("sd-conversion", Source.DEDUP),
    "amzn_stream_sd_traffic": ("sd-traffic", Source.DEDUP),
    "amzn_stream_sp_conversion": ("sp-conversion", Source.DEDUP),
    "amzn_stream_sp_traffic": ("sp-traffic", Source.DEDUP),
    "amzn_stream_targets": ("targets", Source.LATEST),
}


@dataclass(frozen=True)
class View:
    """``sources`` digests the columns of every table the view reads, directly or through other views.

    Athena fixes a view's columns when it creates it (``t.*`` included) and reports the view stale once a table
    gains a column, though the view's SQL is unchanged; the digest changes with the columns, so the view's
    custom resource is updated and the view re-created (infra/stream/views.py).
    """

    name: str
    sql: str
    sources: str


def table_columns(dataset: Dataset) -> list[tuple[str, str]]:
    """(name, Hive type) of the dataset's Glue table besides its ``PARTITION_KEYS`` (strings): what views select."""
    return [*((c.name, c.type) for c in dataset.columns), *((c, "string") for c in OUR_COLUMNS)]


def _sources(*read: Dataset) -> str:
    columns = [f"{d.table}.{name} {kind}" for d in read for name, kind in table_columns(d)]
    partitions = [f"{d.table}.{key} partition" for d in read for key in PARTITION_KEYS]
    return hashlib.sha256("\n".join(columns + partitions).encode()).hexdigest()


def render(template: str, **values: str) -> str:
    """Fill a ``sql/<template>.sql`` file; a placeholder left unfilled is an error, not silent SQL.

    Comment lines are dropped: Athena DDL submitted through the API should start with the statement.
    """
    text = "\n".join(line for line in (_SQL / f"{template}.sql").read_text().splitlines() if not line.startswith("--"))
    return Template(text).substitute(values).strip()


def views(database: str, selected: Iterable[Dataset]) -> list[View]:
    """Every view for ``selected``, in dependency order."""
    chosen = {d.id: d for d in selected}
    found: list[View] = []
    for dataset in chosen.values():
        if dataset.kind is Kind.METRIC:
            found += _metric_views(database, dataset)
        elif dataset.keys:  # entities and budget usage: newest per identity
            found.append(_latest(database, dataset))
        if dataset.id == BUDGET_USAGE:
            found.append(_budget_history(database, dataset))
    for traffic, conversion, name in PERFORMANCE:
        if traffic in chosen and conversion in chosen:
            found.append(_performance(database, chosen[traffic], chosen[conversion], name))
    found += [
        _openbridge(database, name, chosen[dataset_id], source)
        for name, (dataset_id, source) in OPENBRIDGE.items()
        if dataset_id in chosen
    ]
    return found


def hourly_view(dataset: Dataset) -> str:
    return f"{dataset.table}_hourly"


def view_of(dataset: Dataset, source: Source) -> str:
    return f"{dataset.table}_{source}"


def _metric_views(database: str, dataset: Dataset) -> list[View]:
    dedup = view_of(dataset, Source.DEDUP)
    sums = ",\n    ".join(f"sum({m}) AS {m}" for m in dataset.measures)
    return [
        View(dedup, render("metric_dedup", database=database, view=dedup, table=dataset.table), _sources(dataset)),
        View(
            hourly_view(dataset),
            render(
                "metric_hourly",
                database=database,
                view=hourly_view(dataset),
                dedup=dedup,
                keys=",\n    ".join(dataset.keys),
                sums=sums,
            ),
            _sources(dataset),
        ),
    ]


def _latest(database: str, dataset: Dataset) -> View:
    newest_first = ", ".join(f"t.{c} DESC" for c in dataset.order_by)
    return _first_per_key(database, dataset, Source.LATEST, dataset.keys, newest_first)


def _budget_history(database: str, dataset: Dataset) -> View:
    """Every distinct budget notice; a copy Amazon or SQS delivers again is dropped, the first received kept.

    No dt/hour in the key: notices are filed by arrival hour, so two copies can sit in different partitions.
    """
    return _first_per_key(
        database, dataset, Source.HISTORY, (*dataset.keys, *BUDGET_NOTICE), "t._received_at, t._message_id"
    )


def _first_per_key(database: str, dataset: Dataset, source: Source, key: tuple[str, ...], order: str) -> View:
    name = view_of(dataset, source)
    sql = render(
        "first_per_key",
        database=database,
        view=name,
        table=dataset.table,
        key=", ".join(f"t.{k}" if k.isidentifier() else k for k in key),
        order=order,
    )
    return View(name, sql, _sources(dataset))


def _openbridge(database: str, name: str, dataset: Dataset, source: Source) -> View:
    """The raw table's columns only (not our ``_rn``), so the name reads like the table Openbridge loads."""
    columns = [c for c, _ in table_columns(dataset)] + list(PARTITION_KEYS)
    sql = render(
        "openbridge",
        database=database,
        view=name,
        source=view_of(dataset, source),
        columns=",\n    ".join(columns),
    )
    return View(name, sql, _sources(dataset))


def _performance(database: str, traffic: Dataset, conversion: Dataset, name: str) -> View:
    join_keys = [k for k in conversion.keys if k in traffic.keys]
    sql = render(
        "performance_hourly",
        database=database,
        view=name,
        traffic=hourly_view(traffic),
        conversion=hourly_view(conversion),
        conversion_columns=",\n    ".join(f"c.{m}" for m in conversion.measures),
        # dt/hour too, though time_window_start implies them: it lets Athena prune the conversion side's partitions
        join_on="\n    AND ".join(
            [*(f"t.{k} IS NOT DISTINCT FROM c.{k}" for k in join_keys), "t.dt = c.dt", "t.hour = c.hour"]
        ),
    )
    return View(name, sql, _sources(traffic, conversion))
