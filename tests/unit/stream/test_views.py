"""View SQL rendering: every placeholder filled, one set of views per selection."""

import pytest

from adsbridge.stream import datasets, views


def test_every_dataset_gets_its_views() -> None:
    names = [v.name for v in views.views("db", datasets.catalogue().values())]
    assert len(names) == 12 * 2 + 8 + 1 + 2
    assert {"sp_traffic_dedup", "sp_traffic_hourly", "campaigns_latest", "budget_usage_latest"} <= set(names)
    assert names.index("sp_traffic_hourly") < names.index("sp_performance_hourly")


def test_performance_needs_both_sides() -> None:
    names = [v.name for v in views.views("db", [datasets.get("sp-traffic")])]
    assert names == ["sp_traffic_dedup", "sp_traffic_hourly"]


def test_sql_is_fully_rendered_and_names_the_database() -> None:
    for view in views.views("adsbridge_na", datasets.catalogue().values()):
        assert "${" not in view.sql and "--" not in view.sql
        assert view.sql.startswith(f"CREATE OR REPLACE VIEW adsbridge_na.{view.name} AS")


def test_missing_placeholder_is_an_error() -> None:
    with pytest.raises(KeyError):
        views.render("latest", database="db")


def test_a_days_query_can_prune_partitions() -> None:
    """Athena pushes a dt/hour filter below a window only through its PARTITION BY columns, and prunes a
    join's other side only when the join names the partition columns."""
    by_name = {v.name: v.sql for v in views.views("db", datasets.catalogue().values())}
    assert "PARTITION BY t.dt, t.hour, t.idempotency_id" in by_name["sp_traffic_dedup"]
    assert "t.dt = c.dt" in by_name["sp_performance_hourly"] and "t.hour = c.hour" in by_name["sp_performance_hourly"]
