"""Metric records partition by time_window_start in UTC; the rest by arrival."""

from datetime import UTC, datetime

import pytest

from adsbridge.stream import datasets
from adsbridge.stream.envelope import MalformedMessage
from adsbridge.stream.partition import partition_of

ARRIVAL = datetime(2024, 3, 1, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ("2022-02-01T10:00:00-08:00", ("2022-02-01", "18")),
        ("2022-02-01T20:00:00-08:00", ("2022-02-02", "04")),  # crosses midnight UTC
        ("2022-02-01T01:00:00+09:00", ("2022-01-31", "16")),
        ("2022-02-01T10:00:00Z", ("2022-02-01", "10")),
    ],
)
def test_metric_by_window_start_in_utc(window: str, expected: tuple[str, str]) -> None:
    assert partition_of(datasets.get("sp-traffic"), {"time_window_start": window}, ARRIVAL) == expected


@pytest.mark.parametrize("window", [None, "yesterday", "2022-02-01T10:00:00"])
def test_metric_without_a_usable_window_is_malformed(window: str | None) -> None:
    with pytest.raises(MalformedMessage):
        partition_of(datasets.get("sd-traffic"), {"time_window_start": window}, ARRIVAL)


def test_others_by_arrival() -> None:
    fields = {"time_window_start": "2022-02-01T10:00:00-08:00"}  # ignored outside metric datasets
    assert partition_of(datasets.get("campaigns"), fields, ARRIVAL) == ("2024-03-01", "07")
    assert partition_of(datasets.get("budget-usage"), {}, ARRIVAL) == ("2024-03-01", "07")
