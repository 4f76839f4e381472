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


@pytest.mark.parametrize(
    "window",
    [
        "2021-12-31T15:59:59-08:00",  # 23:59 UTC on the day before the projection starts
        "2024-03-02T00:00:00Z",  # after the day the message was sent: a day Athena's NOW has not reached
        "2099-01-01T00:00:00+00:00",
        "9999-12-31T23:00:00-08:00",  # past the last datetime once in UTC
        "0001-01-01T00:00:00+01:00",  # before the first datetime once in UTC
    ],
)
def test_window_outside_the_projection_range_is_refused(window: str) -> None:
    with pytest.raises(MalformedMessage, match="partition projection"):
        partition_of(datasets.get("sp-traffic"), {"time_window_start": window}, ARRIVAL)


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ("2021-12-31T16:00:00-08:00", ("2022-01-01", "00")),  # the projection's first hour
        ("2024-03-01T23:00:00Z", ("2024-03-01", "23")),  # later on the day it was sent: read once NOW reaches it
    ],
)
def test_window_at_the_edges_of_the_projection_is_kept(window: str, expected: tuple[str, str]) -> None:
    assert partition_of(datasets.get("sp-traffic"), {"time_window_start": window}, ARRIVAL) == expected


def test_arrival_before_the_projection_is_refused() -> None:
    with pytest.raises(MalformedMessage, match="partition projection"):
        partition_of(datasets.get("campaigns"), {}, datetime(2021, 12, 31, 23, tzinfo=UTC))
