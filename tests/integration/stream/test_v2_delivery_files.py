"""The v2 views in DuckDB over the sandbox's delivered files (history, live hours, a grown schema, a restated hour
landing out of order) equal the truth the writer returns: what the emulator and the demo rely on."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from adsbridge.stream.v2 import amazon
from adsbridge.stream.v2.views import v2_views
from adsbridge_sandbox import stream_v2_files as v2

DATABASE = "v2db"
TABLE = amazon.table_name(v2.DATASET)


def test_the_views_over_a_delivery_equal_its_truth(tmp_path: Path) -> None:
    plan = v2.Plan(advertisers=2, campaigns=2, ads=3, products=(amazon.SPONSORED_PRODUCTS, "SPONSORED_BRANDS"))
    delivery = v2.scenario(plan, seed=11, now=datetime(2026, 12, 6, 10, tzinfo=UTC), history_days=1, live_hours=2)
    for file in delivery.files:
        path = tmp_path / file.key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(file.parquet())
    con = duckdb.connect()
    con.execute(f"CREATE SCHEMA {DATABASE}")
    files = f"{tmp_path}/{v2.PREFIX}/{v2.DATASET}/*/*/*.parquet"
    con.execute(f"CREATE VIEW {DATABASE}.{TABLE} AS SELECT * FROM read_parquet('{files}', union_by_name = true)")
    for view in v2_views(DATABASE, v2.DATASET):
        con.execute(view.sql)

    dimensions, metrics = ", ".join(amazon.DIMENSIONS), ", ".join(amazon.METRICS)
    latest = con.execute(f"SELECT {dimensions}, {metrics} FROM {DATABASE}.{TABLE}_latest").fetchall()
    width = len(amazon.DIMENSIONS)
    assert {r[:width]: dict(zip(amazon.METRICS, r[width:], strict=True)) for r in latest} == delivery.truth()
    assert len(latest) == len(delivery.truth())

    group = ", ".join(v2.HOURLY_GROUP)
    hourly = con.execute(f"SELECT {group}, dt, hour, {metrics}, records FROM {DATABASE}.{TABLE}_hourly").fetchall()
    names = [*amazon.METRICS, "records"]
    assert {r[:5]: dict(zip(names, r[5:], strict=True)) for r in hourly} == delivery.hourly_truth()
    grown = con.execute(f"SELECT count(detailpageviews) FROM {DATABASE}.{TABLE}").fetchone()
    assert grown == (plan.advertisers * plan.campaigns * plan.ads * 2,)  # only the grown file has the column


@pytest.mark.parametrize("seed", [1, 2])
def test_the_restated_hour_resolves_to_its_newest_version_not_its_last_arrival(seed: int) -> None:
    delivery = v2.scenario(v2.Plan(), seed=seed, now=datetime(2026, 12, 6, 10, tzinfo=UTC), history_days=0)
    last_arrival, newest = delivery.files[-1], delivery.files[-2]
    assert last_arrival.version < newest.version
    truth = delivery.truth()
    assert all(truth[record] == totals for record, totals in newest.rows)
    assert any(truth[record] != totals for record, totals in last_arrival.rows)
