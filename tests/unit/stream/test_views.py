"""View SQL rendering: every placeholder filled, one set of views per selection."""

from dataclasses import replace

import pytest

from adsbridge.stream import datasets, views


def test_every_dataset_gets_its_views() -> None:
    names = [v.name for v in views.views("db", datasets.catalogue().values())]
    # metric dedup + hourly, entity latest, budget latest + history, performance joins, Openbridge's names
    assert len(names) == 12 * 2 + 8 + 2 + 2 + 13
    assert {"sp_traffic_dedup", "sp_traffic_hourly", "campaigns_latest", "budget_usage_latest"} <= set(names)
    assert names.index("sp_traffic_hourly") < names.index("sp_performance_hourly")
    assert names.index("budget_usage_history") < names.index("amzn_stream_budget_usage")


def test_performance_needs_both_sides() -> None:
    names = [v.name for v in views.views("db", [datasets.get("sp-traffic")])]
    assert names == ["sp_traffic_dedup", "sp_traffic_hourly", "amzn_stream_sp_traffic"]


def test_openbridge_names_only_for_deployed_datasets() -> None:
    names = [v.name for v in views.views("db", [datasets.get("campaigns"), datasets.get("adsp-traffic")])]
    assert names == ["campaigns_latest", "adsp_traffic_dedup", "adsp_traffic_hourly", "amzn_stream_campaigns"]


def test_every_openbridge_table_reads_an_existing_view_of_its_dataset() -> None:
    """The mapping names Openbridge's 13 tables, each over a dataset of ours and a view that dataset gets."""
    assert len(views.OPENBRIDGE) == 13
    created = {v.name for v in views.views("db", datasets.catalogue().values())}
    for name, (dataset_id, source) in views.OPENBRIDGE.items():
        dataset = datasets.get(dataset_id)
        assert name == f"amzn_stream_{dataset.table}"
        assert views.view_of(dataset, source) in created, name


def test_sql_is_fully_rendered_and_names_the_database() -> None:
    for view in views.views("adsbridge_na", datasets.catalogue().values()):
        assert "${" not in view.sql and "--" not in view.sql
        assert view.sql.startswith(f"CREATE OR REPLACE VIEW adsbridge_na.{view.name} AS")


def test_missing_placeholder_is_an_error() -> None:
    with pytest.raises(KeyError):
        views.render("first_per_key", database="db")


def test_a_days_query_can_prune_partitions() -> None:
    """Athena pushes a dt/hour filter below a window only through its PARTITION BY columns, and prunes a
    join's other side only when the join names the partition columns."""
    by_name = {v.name: v.sql for v in views.views("db", datasets.catalogue().values())}
    assert "PARTITION BY t.dt, t.hour, t.idempotency_id" in by_name["sp_traffic_dedup"]
    assert "t.dt = c.dt" in by_name["sp_performance_hourly"] and "t.hour = c.hour" in by_name["sp_performance_hourly"]


def test_a_new_column_in_a_table_changes_the_sources_of_every_view_reading_it_and_no_other() -> None:
    """Athena reports a view stale once its table gains a column, though the view's SQL is unchanged: the
    changed ``sources`` is what updates the view's custom resource, which re-creates it."""
    before = {v.name: v for v in views.views("db", datasets.catalogue().values())}
    traffic = datasets.get("sp-traffic")
    grown = replace(traffic, columns=(*traffic.columns, datasets.Column("new_metric", "bigint", ("newMetric",))))
    after = {
        v.name: v
        for v in views.views("db", [grown if d.id == "sp-traffic" else d for d in datasets.catalogue().values()])
    }
    changed = {name for name in before if before[name].sources != after[name].sources}
    assert changed == {"sp_traffic_dedup", "sp_traffic_hourly", "sp_performance_hourly", "amzn_stream_sp_traffic"}
    assert before["sp_traffic_dedup"].sql == after["sp_traffic_dedup"].sql  # t.*: the SQL alone would not tell


def test_a_changed_column_type_changes_the_sources_too() -> None:
    campaigns = datasets.get("campaigns")
    retyped = replace(
        campaigns, columns=tuple(replace(c, type="string") if c.name == "version" else c for c in campaigns.columns)
    )
    for before, after in zip(views.views("db", [campaigns]), views.views("db", [retyped]), strict=True):
        assert before.sql == after.sql and before.sources != after.sources


def test_table_columns_are_the_datasets_then_ours() -> None:
    dataset = datasets.get("budget-usage")
    columns = views.table_columns(dataset)
    assert columns[: len(dataset.columns)] == [(c.name, c.type) for c in dataset.columns]
    assert columns[len(dataset.columns) :] == [(c, "string") for c in views.OUR_COLUMNS]
