"""Which v2 views a dataset gets: latest and hourly always; the SP view beside v1 only for the performance
dataset, and only given the v1 database in the same region."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from adsbridge.stream import views as v1_views
from adsbridge.stream.v2 import amazon
from adsbridge.stream.v2.views import SP_ALIGNED, SP_DATASET, v2_views
from adsbridge.stream.views import View

TABLE = amazon.table_name(SP_DATASET)


def names(dataset: str, v1_database: str | None) -> list[str]:
    return [view.name for view in v2_views("v2db", dataset, v1_database)]


def test_the_performance_dataset_gets_the_sp_view_only_with_a_v1_database() -> None:
    assert names(SP_DATASET, None) == [f"{TABLE}_latest", f"{TABLE}_hourly"]
    assert names(SP_DATASET, "v1db") == [f"{TABLE}_latest", f"{TABLE}_hourly", SP_ALIGNED]


def test_another_dataset_never_gets_the_sp_view() -> None:
    other = amazon.table_name("dsp-overview-v1")
    assert names("dsp-overview-v1", "v1db") == [f"{other}_latest", f"{other}_hourly"]


def test_the_sp_view_is_recreated_when_v1_s_hourly_view_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Athena marks a view stale when a view it reads changes; the digest must follow v1's view, not only its name."""
    before = v2_views("v2db", SP_DATASET, "v1db")[-1]
    real = v1_views.views

    def changed(database: str, selected: Any) -> list[View]:
        return [replace(view, sql=view.sql.replace("sum(", "max(")) for view in real(database, selected)]

    monkeypatch.setattr(v1_views, "views", changed)
    after = v2_views("v2db", SP_DATASET, "v1db")[-1]
    assert after.name == before.name == SP_ALIGNED and after.sql == before.sql
    assert after.sources != before.sources
