"""Where a record lands: ``dataset=<id>/dt=<YYYY-MM-DD>/hour=<HH>/``.

Metric records go by ``time_window_start`` in UTC, so an hour's deltas and their restatements meet in one
partition however late they arrive; everything else goes by arrival time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adsbridge.stream.datasets import Dataset
from adsbridge.stream.envelope import MalformedMessage


def partition_of(dataset: Dataset, fields: dict[str, Any], received_at: datetime) -> tuple[str, str]:
    """(dt, hour) in UTC."""
    moment = _window_start(fields) if dataset.is_metric else received_at
    moment = moment.astimezone(UTC)
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
