"""Where a record lands: ``dataset=<id>/dt=<YYYY-MM-DD>/hour=<HH>/``.

Metric records go by ``time_window_start`` in UTC, so an hour's deltas and their restatements meet in one
partition however late they arrive; everything else goes by arrival time.

Athena reads only the partitions its projection enumerates (``DT_PROJECTION_RANGE``, which the Glue tables in
infra/stream use): a record filed under any other day would be acknowledged and then never queried, so it
fails to the DLQ instead, naming the reason.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from adsbridge.stream.datasets import Dataset
from adsbridge.stream.envelope import MalformedMessage

PROJECTION_START = date(2022, 1, 1)  # before Amazon Marketing Stream's first beta (docs/marketing-stream.md#datasets)
DT_PROJECTION_RANGE = f"{PROJECTION_START.isoformat()},NOW"  # Glue ``projection.dt.range``: NOW is query time


def partition_of(dataset: Dataset, fields: dict[str, Any], received_at: datetime) -> tuple[str, str]:
    """(dt, hour) in UTC, once the day is one the projection reads.

    The upper bound is the day the message was sent: a window that starts later is not an hour Amazon can
    have measured, and its partition lies beyond what Athena's ``NOW`` enumerates.
    """
    what = "time_window_start" if dataset.is_metric else "arrival time"
    try:
        moment = (_window_start(fields) if dataset.is_metric else received_at).astimezone(UTC)
    except OverflowError:  # a year 1 or 9999 moment that leaves the calendar once in UTC
        raise MalformedMessage(f"{what} is outside the partition projection ({DT_PROJECTION_RANGE})") from None
    if not PROJECTION_START <= moment.date() <= received_at.astimezone(UTC).date():
        raise MalformedMessage(
            f"{what} {moment:%Y-%m-%d} UTC is outside the partition projection "
            f"({PROJECTION_START.isoformat()} to the day the message was sent)"
        )
    return moment.strftime("%Y-%m-%d"), moment.strftime("%H")


def prefix(dataset_id: str, dt: str, hour: str) -> str:
    return f"dataset={dataset_id}/dt={dt}/hour={hour}/"


def _window_start(fields: dict[str, Any]) -> datetime:
    value = fields.get("time_window_start")
    if not isinstance(value, str):
        raise MalformedMessage("metric record without time_window_start")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedMessage("time_window_start is not ISO 8601") from None
    if moment.tzinfo is None:
        raise MalformedMessage("time_window_start has no UTC offset")
    return moment
