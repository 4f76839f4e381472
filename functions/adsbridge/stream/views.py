"""The Athena views, rendered from the ``sql/*.sql`` files for one database and a choice of datasets.

CDK creates them in Athena and the tests run the very same statements in DuckDB: both engines accept this
SQL (window functions, ``IS NOT DISTINCT FROM``, ``CREATE OR REPLACE VIEW``), and dt/hour already hold the
UTC hour, so no dialect-specific time functions are needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from string import Template

from adsbridge.stream.datasets import Dataset, Kind

_SQL = resources.files("adsbridge.stream") / "sql"
# (traffic, conversion, view) pairs joined hourly.
PERFORMANCE = (
    ("sp-traffic", "sp-conversion", "sp_performance_hourly"),
    ("sd-traffic", "sd-conversion", "sd_performance_hourly"),
)


@dataclass(frozen=True)
class View:
    name: str
    sql: str


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
    for traffic, conversion, name in PERFORMANCE:
        if traffic in chosen and conversion in chosen:
            found.append(_performance(database, chosen[traffic], chosen[conversion], name))
    return found


def hourly_view(dataset: Dataset) -> str:
    return f"{dataset.table}_hourly"


def _metric_views(database: str, dataset: Dataset) -> list[View]:
    dedup = f"{dataset.table}_dedup"
    sums = ",\n    ".join(f"sum({m}) AS {m}" for m in dataset.measures)
    return [
        View(dedup, render("metric_dedup", database=database, view=dedup, table=dataset.table)),
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
        ),
    ]


def _latest(database: str, dataset: Dataset) -> View:
    name = f"{dataset.table}_latest"
    sql = render(
        "latest",
        database=database,
        view=name,
        table=dataset.table,
        identity=", ".join(f"t.{k}" if k.isidentifier() else k for k in dataset.keys),
        newest_first=", ".join(f"t.{c} DESC" for c in dataset.order_by),
    )
    return View(name, sql)


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
    return View(name, sql)
