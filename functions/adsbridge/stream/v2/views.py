"""The Stream v2 Athena views, rendered from ``sql/v2_*.sql`` with the columns of ``amazon.py``'s mapping.

``<table>_latest``: the highest ``streamBatch.version`` per full record key; ``<table>_hourly``: hourly totals per
ad product; ``sp_v1_v2_hourly``: Sponsored Products from v2 (``SP_DATASET``) beside v1's ``sp_traffic_hourly``, only
when the v1 tables are in a Glue database Athena can join here (``v1_database``). DuckDB runs the same SQL in the
tests.
"""

from __future__ import annotations

import hashlib

from adsbridge.ads.stream_v2_contract import DATASET_PERFORMANCE
from adsbridge.stream import datasets, views
from adsbridge.stream.v2 import amazon
from adsbridge.stream.views import View, hourly_view, render

SP_ALIGNED = "sp_v1_v2_hourly"
SP_DATASET = DATASET_PERFORMANCE  # the v2 dataset whose rows carry Sponsored Products (amazon.SPONSORED_PRODUCTS)
V1_SP_TRAFFIC = "sp-traffic"


def _sources(*parts: str) -> str:
    """Digest of what the views read: the mapping's columns (the view is re-created when it changes)."""
    described = [f"{c}.{f.column}.{f.path} {f.type}" for c, f in amazon.view_columns().items()]
    return hashlib.sha256("\n".join([*described, *parts]).encode()).hexdigest()


def v2_views(database: str, dataset: str, v1_database: str | None = None) -> list[View]:
    """The views over one v2 dataset's table, in dependency order; ``sp_v1_v2_hourly`` too for ``SP_DATASET``
    when ``v1_database`` is given (any other dataset has no v1 counterpart, so it is ignored there)."""
    table = amazon.table_name(dataset)
    latest, hourly = f"{table}_latest", f"{table}_hourly"
    names = list(amazon.view_columns())
    found = [
        View(
            latest,
            render(
                "v2_latest",
                database=database,
                view=latest,
                table=table,
                columns=", ".join(names),
                projection=",\n            ".join(f"{f.sql('t')} AS {n}" for n, f in amazon.view_columns().items()),
                record_key=", ".join(amazon.DIMENSIONS),
            ),
            _sources(table),
        ),
        View(
            hourly,
            render(
                "v2_hourly",
                database=database,
                view=hourly,
                latest=latest,
                window_start=amazon.WINDOW_START,
                sums=",\n    ".join(f"sum({m}) AS {m}" for m in amazon.METRICS),
            ),
            _sources(table),
        ),
    ]
    if v1_database is not None and dataset == SP_DATASET:
        sp_traffic = datasets.get(V1_SP_TRAFFIC)
        v1_hourly = hourly_view(sp_traffic)
        # v1's view in the digest too: a change to it leaves this view stale in Athena, with this SQL unchanged
        v1_view = next(view for view in views.views(v1_database, [sp_traffic]) if view.name == v1_hourly)
        found.append(
            View(
                SP_ALIGNED,
                render(
                    "v2_v1_sp_hourly",
                    database=database,
                    view=SP_ALIGNED,
                    v2_hourly=hourly,
                    v1_database=v1_database,
                    v1_hourly=v1_hourly,
                    sponsored_products=amazon.SPONSORED_PRODUCTS,
                ),
                _sources(table, f"{v1_database}.{v1_hourly}", v1_view.sql, v1_view.sources),
            )
        )
    return found
