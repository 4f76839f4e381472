"""Openbridge's ``amzn_stream_*`` names and the budget history, run in DuckDB over raw objects as ingest writes
them (``dataset=<id>/dt=/hour=/`` gzip JSON lines): a copy delivered twice shows once, everything else stays."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from adsbridge.stream import datasets
from adsbridge_sandbox.duck import catalog

DB = "adsbridge_eu"


def land(root: Path, name: str, records: list[dict[str, Any]], dt: str = "2026-12-01", hour: str = "10") -> None:
    """``name``'s records as one object in the partition of ``dt``/``hour`` (the dataset from the first record)."""
    folder = root / f"dataset={records[0]['dataset_id']}/dt={dt}/hour={hour}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json.gz").write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode()))


def delivered(message_id: str, received_at: str, **fields: Any) -> dict[str, Any]:
    return {**fields, "_message_id": message_id, "_received_at": received_at, "_realm": "EU"}


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return sorted(con.execute(sql).fetchall(), key=repr)


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    traffic = {
        "dataset_id": "sp-traffic",
        "advertiser_id": "A1",
        "marketplace_id": "A1PA6795UKMFR9",
        "campaign_id": "111",
        "ad_group_id": "222",
        "ad_id": "333",
        "time_window_start": "2026-12-01T11:00:00+01:00",
        "currency": "EUR",
    }
    land(
        tmp_path,
        "first",
        [delivered("m1", "2026-12-01T12:05:00Z", **traffic, idempotency_id="i-1", clicks=5, cost=1.5)],
    )
    land(
        tmp_path,
        "again",
        [  # the same record delivered twice, an hour later, and a correction the next day
            delivered("m2", "2026-12-01T13:05:00Z", **traffic, idempotency_id="i-1", clicks=5, cost=1.5),
            delivered("m3", "2026-12-02T09:00:00Z", **traffic, idempotency_id="i-2", clicks=-1, cost=-0.3),
        ],
    )
    campaign = {"dataset_id": "campaigns", "advertiser_id": "A1", "marketplace_id": "A1PA6795UKMFR9"}
    land(
        tmp_path,
        "changes",
        [
            delivered("c1", "2026-12-01T10:01:00Z", **campaign, campaignId="111", version=1, state="ENABLED"),
            delivered("c2", "2026-12-01T10:30:00Z", **campaign, campaignId="111", version=2, state="PAUSED"),
            delivered("c3", "2026-12-01T10:31:00Z", **campaign, campaignId="111", version=2, state="PAUSED"),
            delivered("c4", "2026-12-01T10:40:00Z", **campaign, campaignId="444", version=7, state="ENABLED"),
        ],
    )
    scope = {
        "dataset_id": "budget-usage",
        "advertiser_id": "A1",
        "marketplace_id": "A1PA6795UKMFR9",
        "budget_scope_type": "CAMPAIGN",
        "budget_scope_id": "111",
        "advertising_product_type": "sp",
        "budget": 100.0,
    }
    notice = {**scope, "budget_usage_percentage": 50.0, "usage_updated_timestamp": "2026-12-01T10:59:58Z"}
    land(tmp_path, "n1", [delivered("b1", "2026-12-01T10:59:59Z", **notice)])
    # Amazon sends the same notice again; it arrives in the next hour's partition
    land(
        tmp_path,
        "n1-again",
        [
            delivered("b2", "2026-12-01T11:00:02Z", **notice),
            # a click invalidated, then 50 % reached again: a later usage event, kept
            delivered("b3", "2026-12-01T11:40:00Z", **{**notice, "usage_updated_timestamp": "2026-12-01T11:39:58Z"}),
            delivered(
                "b4",
                "2026-12-01T11:45:00Z",
                **{**notice, "budget_usage_percentage": 55.0, "usage_updated_timestamp": "2026-12-01T11:44:58Z"},
            ),
            delivered("b5", "2026-12-01T11:46:00Z", **{**notice, "budget_scope_id": "444"}),
        ],
        hour="11",
    )
    return catalog(tmp_path, DB, datasets.catalogue().values())


def test_a_metric_record_delivered_twice_appears_once_and_a_correction_stays(con: duckdb.DuckDBPyConnection) -> None:
    got = rows(con, f"SELECT idempotency_id, clicks, cost, _message_id, dt, hour FROM {DB}.amzn_stream_sp_traffic")
    assert got == [("i-1", 5, 1.5, "m1", "2026-12-01", "10"), ("i-2", -1, -0.3, "m3", "2026-12-01", "10")]
    assert con.execute(f"SELECT sum(clicks) FROM {DB}.amzn_stream_sp_traffic").fetchone() == (4,)


def test_an_entity_appears_once_at_its_newest_version(con: duckdb.DuckDBPyConnection) -> None:
    got = rows(con, f"SELECT campaignid, version, state FROM {DB}.amzn_stream_campaigns")
    assert got == [("111", 2, "PAUSED"), ("444", 7, "ENABLED")]


def test_budget_history_keeps_every_distinct_notice_and_drops_repeats(con: duckdb.DuckDBPyConnection) -> None:
    got = rows(
        con,
        f"SELECT budget_scope_id, budget_usage_percentage, usage_updated_timestamp, _message_id "
        f"FROM {DB}.amzn_stream_budget_usage",
    )
    assert got == [
        ("111", 50.0, "2026-12-01T10:59:58Z", "b1"),  # b2, its copy in the next hour, dropped
        ("111", 50.0, "2026-12-01T11:39:58Z", "b3"),
        ("111", 55.0, "2026-12-01T11:44:58Z", "b4"),
        ("444", 50.0, "2026-12-01T10:59:58Z", "b5"),
    ]
    latest = rows(con, f"SELECT budget_scope_id, _message_id FROM {DB}.budget_usage_latest")
    assert latest == [("111", "b4"), ("444", "b5")]


def test_the_names_show_the_raw_tables_columns(con: duckdb.DuckDBPyConnection) -> None:
    for name in ("amzn_stream_sp_traffic", "amzn_stream_campaigns", "amzn_stream_budget_usage", "amzn_stream_targets"):
        table = name.removeprefix("amzn_stream_")
        columns = [d[0] for d in con.execute(f"SELECT * FROM {DB}.{name} LIMIT 0").description]
        assert columns == [d[0] for d in con.execute(f"SELECT * FROM {DB}.{table} LIMIT 0").description], name
