"""The v2 views in DuckDB over Parquet files as Amazon is assumed to write them (amazon.py): restated windows
arriving out of order give exactly the final totals, per record, per hour and product, and beside v1."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from adsbridge.stream.v2 import amazon
from adsbridge.stream.v2.views import SP_ALIGNED, v2_views

DATABASE, V1 = "v2db", "v1db"
DATASET = "ads-performance-v1"
TABLE = amazon.table_name(DATASET)
PRODUCTS = ("SPONSORED_PRODUCTS", "SPONSORED_BRANDS", "SPONSORED_DISPLAY", "DSP")
Key = tuple[str, str, str, str, str]  # product, campaign, ad, window start, placement
TEXT = ("advertiserId", "marketplaceId", "campaignId", "adGroupId", "adId", "targetingId", "placement", "currency",
        "timeWindowStart", "timeWindowEnd")  # fmt: skip
SCHEMA = pa.schema(
    [
        ("streamBatch", pa.struct([("version", pa.int64())])),
        ("adProduct", pa.struct([("value", pa.string())])),
        *((name, pa.string()) for name in TEXT),
        ("impressions", pa.int64()), ("clicks", pa.int64()), ("cost", pa.float64()), ("sales", pa.float64()),
        ("purchases", pa.int64()),
    ]
)  # fmt: skip


def row(key: Key, version: int, totals: tuple[int, int, float]) -> dict[str, Any]:
    product, campaign, ad, start, placement = key
    impressions, clicks, cost = totals
    return {
        "streamBatch": {"version": version}, "adProduct": {"value": product}, "advertiserId": "ADV1",
        "marketplaceId": "ATVPDKIKX0DER", "campaignId": campaign, "adGroupId": "g1", "adId": ad, "targetingId": None,
        "placement": placement, "currency": "USD", "timeWindowStart": start, "timeWindowEnd": start[:14] + "59:59Z",
        "impressions": impressions, "clicks": clicks, "cost": cost, "sales": 0.0, "purchases": 0,
    }  # fmt: skip


def batches(rng: random.Random) -> tuple[list[list[dict[str, Any]]], dict[Key, tuple[int, int, float]]]:
    """Files of rows: every record sent 1-4 times with rising versions, restatements shuffled across files so a
    file with an older version often lands after a newer one; ``truth`` is each record's last version's totals."""
    truth: dict[Key, tuple[int, int, float]] = {}
    rows: list[dict[str, Any]] = []
    for product in PRODUCTS:
        for campaign in ("101", "102"):
            for ad in ("1", "2"):
                for hour in ("09", "10"):
                    for placement in ("TOP", "REST"):  # one dimension apart: two records, never one
                        key = (product, campaign, ad, f"2026-12-01T{hour}:00:00Z", placement)
                        for version in range(1, rng.randint(1, 4) + 1):
                            totals = (rng.randint(0, 1000), rng.randint(0, 50), round(rng.uniform(0, 20), 2))
                            rows.append(row(key, version, totals))
                            truth[key] = totals
    rng.shuffle(rows)
    return [rows[i : i + 17] for i in range(0, len(rows), 17)], truth


def catalog(tmp_path: Path, files: list[list[dict[str, Any]]], v1_rows: list[tuple[Any, ...]]) -> Any:
    con = duckdb.connect()
    for i, rows in enumerate(files):  # one Parquet file per batch, in arrival order
        hour_dir = tmp_path / f"ads-performance-v1/2026-12-01/{i:02d}"
        hour_dir.mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), hour_dir / "part.parquet")
    con.execute(f"CREATE SCHEMA {DATABASE}")
    con.execute(
        f"CREATE VIEW {DATABASE}.{TABLE} AS SELECT * FROM read_parquet('{tmp_path}/ads-performance-v1/*/*/*.parquet', union_by_name = true)"
    )
    con.execute(f"CREATE SCHEMA {V1}")
    con.execute(
        f"CREATE TABLE {V1}.sp_traffic_hourly (campaign_id VARCHAR, dt VARCHAR, hour VARCHAR, clicks BIGINT, impressions BIGINT, cost DOUBLE)"
    )
    if v1_rows:
        con.executemany(f"INSERT INTO {V1}.sp_traffic_hourly VALUES (?, ?, ?, ?, ?, ?)", v1_rows)
    for view in v2_views(DATABASE, DATASET, V1):
        con.execute(view.sql)
    return con


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_latest_and_hourly_equal_the_final_totals(tmp_path: Path, seed: int) -> None:
    files, truth = batches(random.Random(seed))
    con = catalog(tmp_path, files, [])
    latest = con.execute(
        f"SELECT ad_product, campaign_id, ad_id, window_start, placement, impressions, clicks, cost FROM {DATABASE}.{TABLE}_latest"
    ).fetchall()
    assert {r[:5]: r[5:] for r in latest} == truth and len(latest) == len(truth)

    expected: dict[tuple[str, str, str, str], list[float]] = {}
    for (product, campaign, _, start, _), (impressions, clicks, cost) in truth.items():
        sums = expected.setdefault((product, campaign, start[:10], start[11:13]), [0, 0, 0.0, 0])
        sums[0], sums[1], sums[2], sums[3] = sums[0] + impressions, sums[1] + clicks, sums[2] + cost, sums[3] + 1
    hourly = con.execute(
        f"SELECT ad_product, campaign_id, dt, hour, impressions, clicks, cost, records FROM {DATABASE}.{TABLE}_hourly"
    ).fetchall()
    assert {r[:4]: [r[4], r[5], pytest.approx(r[6]), r[7]] for r in hourly} == expected


def test_the_v1_aligned_view_sets_sp_from_both_side_by_side(tmp_path: Path) -> None:
    files, truth = batches(random.Random(7))
    v1_rows = [
        ("101", "2026-12-01", "09", 3, 30, 1.5),
        ("101", "2026-12-01", "09", 1, 10, 0.5),
        ("999", "2026-12-01", "10", 2, 20, 1.0),
    ]
    con = catalog(tmp_path, files, v1_rows)
    aligned = {
        r[:3]: r[3:]
        for r in con.execute(
            f"SELECT campaign_id, dt, hour, v2_clicks, v1_clicks, v2_impressions, v1_impressions FROM {DATABASE}.{SP_ALIGNED}"
        ).fetchall()
    }
    sp = [(k, v) for k, v in truth.items() if k[0] == "SPONSORED_PRODUCTS" and k[1] == "101" and k[3][11:13] == "09"]
    assert aligned[("101", "2026-12-01", "09")] == (sum(v[1] for _, v in sp), 4, sum(v[0] for _, v in sp), 40)
    assert aligned[("999", "2026-12-01", "10")] == (None, 2, None, 20)  # v1 only
    assert aligned[("102", "2026-12-01", "10")][1] is None  # v2 only
    assert len(aligned) == 5  # SP's 2 campaigns × 2 hours, and v1's own
