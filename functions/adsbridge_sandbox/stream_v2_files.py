"""Marketing Stream v2 files as Amazon is assumed to write them, and the truth behind them.

Every column, the key layout and the notification body come from ``adsbridge.stream.v2.amazon`` (the one place of
those UNVERIFIED facts), so the emulator, the demo, the tests and the benchmark follow a correction there. v2 sends
replacement totals per record and hour window: a restated hour carries the same records with a higher
``streamBatch.version`` and new totals, and may land before an older version of itself. A record's truth is the
totals of its highest version. Money is in quarter units, so sums are exact in any order.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from adsbridge.stream.v2 import amazon, footer, hive_types

DATASET = amazon.DATASETS[0]
PREFIX = "amzn"  # any prefix before the dataset; the layout allows one
HOURLY_GROUP = ("ad_product", "advertiser_id", "campaign_id")  # what the v2 hourly view groups by, with dt and hour
_ARROW = {"bigint": pa.int64(), "int": pa.int32(), "double": pa.float64(), "string": pa.string(), "boolean": pa.bool_()}
_KNOWN = {"advertiser_id": "ADV{a}", "campaign_id": "{a}{c:02d}", "ad_id": "{a}{c:02d}{d}"}
_PARTITION_FORMATS = {"dt": "%Y-%m-%d", "hour": "%H"}  # how a file's UTC hour spells each partition key
_FIXED = {"marketplace_id": "ATVPDKIKX0DER", "currency": "USD", "placement": "TOP_OF_SEARCH"}

Record = tuple[str, ...]  # the dimension values, in amazon.DIMENSIONS order: one record's full key
Totals = dict[str, float]


def arrow_type(hive: str) -> pa.DataType:
    """The Arrow type a Parquet column of this Hive type is written with; checked against the catalog's own
    mapping back (footer.hive_type), so the files always catalogue as the table expects."""
    parsed = hive_types.parse(hive)
    found = _arrow(parsed)
    if footer.hive_type(found) != hive_types.render(parsed):
        raise ValueError(f"no Arrow type round-trips Hive type {hive}")
    return found


def _arrow(kind: hive_types.HiveType) -> pa.DataType:
    if isinstance(kind, hive_types.Struct):
        return pa.struct([(name, _arrow(field)) for name, field in kind.fields])
    if isinstance(kind, hive_types.Array):
        return pa.list_(_arrow(kind.element))
    if isinstance(kind, hive_types.Map):
        return pa.map_(_arrow(kind.key), _arrow(kind.value))
    return _ARROW[kind.name]


def schema(extra: Mapping[str, str] | None = None) -> pa.Schema:
    """The file schema: the table's columns (amazon.table_columns) and any ``extra`` column → Hive type."""
    columns = [*amazon.table_columns(), *(extra or {}).items()]
    return pa.schema([(name, arrow_type(kind)) for name, kind in columns])


@dataclass(frozen=True)
class Plan:
    """Who delivers: ``advertisers`` × ``campaigns`` × ``ads`` records per ad product and hour."""

    advertisers: int = 2
    campaigns: int = 2
    ads: int = 2
    products: tuple[str, ...] = (amazon.SPONSORED_PRODUCTS,)

    def records(self, hour: datetime) -> list[Record]:
        start = _hour(hour)
        window = {amazon.WINDOW_START: _iso(start), "window_end": _iso(start + timedelta(hours=1))}
        found = []
        for product in self.products:
            for a in range(self.advertisers):
                for c in range(self.campaigns):
                    for d in range(self.ads):
                        values = {**window, "ad_product": product}
                        found.append(tuple(_dimension(name, values, a, c, d) for name in amazon.DIMENSIONS))
        return found


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _dimension(name: str, values: Mapping[str, str], a: int, c: int, d: int) -> str:
    """A dimension's value: the window, the product, known ids by their pattern, fixed ones, else ``name-d``."""
    if name in values:
        return values[name]
    pattern = _KNOWN.get(name)
    if pattern is not None:
        return pattern.format(a=a + 1, c=c + 1, d=d + 1)
    return _FIXED.get(name, f"{name}-{d + 1}")


def totals(rng: random.Random, base: Totals | None = None) -> Totals:
    """New totals for a record: fresh, or ``base`` grown (a restatement adds late clicks and conversions)."""
    found: Totals = {}
    for name, metric in amazon.METRICS.items():
        step = rng.randrange(0, 400) * 0.25 if metric.type == "double" else rng.randrange(0, 200)
        found[name] = (base or {}).get(name, 0) + step
    return found


@dataclass(frozen=True)
class V2File:
    """One Parquet file: its key, and its rows keyed by view name (``row`` turns one into the Parquet columns)."""

    key: str
    hour: datetime  # the UTC hour window its records are totals of
    version: int
    rows: list[tuple[Record, Totals]]
    extra: Mapping[str, str] = field(default_factory=dict)  # new columns (Hive types) this file brings

    def table(self) -> pa.Table:
        return pa.Table.from_pylist([self.row(r, t) for r, t in self.rows], schema=schema(self.extra))

    def row(self, record: Record, metrics: Totals) -> dict[str, Any]:
        values: dict[str, Any] = {**dict(zip(amazon.DIMENSIONS, record, strict=True)), **metrics}
        values["version"] = self.version
        row: dict[str, Any] = {name: _sample(kind) for name, kind in self.extra.items()}
        for name, column in amazon.view_columns().items():
            if column.path:
                row.setdefault(column.column, {})[column.path] = values[name]
            else:
                row[column.column] = values[name]
        return row

    def parquet(self) -> bytes:
        buffer = io.BytesIO()
        pq.write_table(self.table(), buffer)
        return buffer.getvalue()


def _sample(hive: str) -> Any:
    return {"bigint": 7, "int": 7, "double": 1.25, "string": "x", "boolean": True}.get(hive)


def hour_file(plan: Plan, rng: random.Random, hour: datetime, version: int = 1, **kwargs: Any) -> V2File:
    """Fresh totals for every record of ``hour``; ``extra`` columns when given, ``name`` the file's name."""
    start = _hour(hour)
    return _file(start, version, [(record, totals(rng)) for record in plan.records(start)], **kwargs)


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def restated(rng: random.Random, earlier: V2File, versions: int = 2) -> list[V2File]:
    """``versions`` restatements of ``earlier``'s hour, each with higher totals, in arrival order: the newest first,
    so an older version lands last and only the version (not the arrival) can tell the final totals."""
    found, rows = [], earlier.rows
    for step in range(1, versions + 1):
        rows = [(record, totals(rng, base)) for record, base in rows]
        found.append(_file(earlier.hour, earlier.version + step, rows))
    return found[::-1]


def _file(
    hour: datetime,
    version: int,
    rows: list[tuple[Record, Totals]],
    extra: Mapping[str, str] | None = None,
    name: str = "",
) -> V2File:
    partition = tuple(hour.strftime(_PARTITION_FORMATS[k]) for k in amazon.PARTITION_KEYS)
    key = amazon.object_key(PREFIX, DATASET, partition, name or f"part-v{version:03d}")
    return V2File(key, hour, version, rows, dict(extra or {}))


@dataclass(frozen=True)
class Delivery:
    """Files in arrival order and what the views must show once every one has landed."""

    files: list[V2File]

    def truth(self) -> dict[Record, Totals]:
        """Each record's totals of its highest version, whatever the arrival order."""
        newest: dict[Record, tuple[int, Totals]] = {}
        for file in self.files:
            for record, metrics in file.rows:
                if record not in newest or file.version > newest[record][0]:
                    newest[record] = (file.version, metrics)
        return {record: metrics for record, (_, metrics) in newest.items()}

    def hourly_truth(self) -> dict[tuple[str, ...], Totals]:
        """(ad product, advertiser, campaign, dt, hour) → summed metrics and ``records``, as the hourly view."""
        names = list(amazon.DIMENSIONS)
        sums: dict[tuple[str, ...], Totals] = {}
        for record, metrics in self.truth().items():
            start = record[names.index(amazon.WINDOW_START)]
            key = (*(record[names.index(n)] for n in HOURLY_GROUP), start[:10], start[11:13])
            current = sums.setdefault(key, {**dict.fromkeys(amazon.METRICS, 0), "records": 0})
            for name, value in metrics.items():
                current[name] += value
            current["records"] += 1
        return sums


def history(plan: Plan, rng: random.Random, now: datetime, days: int) -> list[V2File]:
    """The backfill Amazon sends on subscribing (70 days; fewer in the demo): one file per hour before ``now``."""
    end = _hour(now)
    return [hour_file(plan, rng, end - timedelta(hours=h)) for h in range(days * 24, 0, -1)]


GROWN = {"detailpageviews": "bigint"}  # the column a grown schema brings (any name the table lacks)


def scenario(plan: Plan, seed: int, now: datetime, history_days: int = 1, live_hours: int = 2) -> Delivery:
    """The initial history, then ``live_hours`` hourly files (the last one with a grown schema), then the first live
    hour restated twice, out of order."""
    rng = random.Random(seed)
    files = history(plan, rng, now, history_days)
    start = _hour(now)
    live = [hour_file(plan, rng, start + timedelta(hours=h)) for h in range(live_hours - 1)]
    live.append(hour_file(plan, rng, start + timedelta(hours=live_hours - 1), extra=GROWN, name="part-v001-grown"))
    return Delivery([*files, *live, *restated(rng, live[0])])


Notify = Callable[[str], None]  # sends one notification body to the subscription's queue


def queue_sender(sqs: Any, queue_url: str) -> Notify:
    """``Notify`` through a boto3 SQS client, one ``SendMessage`` per body."""
    return lambda body: sqs.send_message(QueueUrl=queue_url, MessageBody=body)


class Writer:
    """Puts files into a bucket and, given ``notify``, sends one notification per file, as Amazon's PublisherRole
    does: the file first, so a consumer reading the notification finds it."""

    def __init__(self, s3: Any, bucket: str, notify: Notify | None = None) -> None:
        self.s3, self.bucket, self.notify = s3, bucket, notify

    def deliver(self, file: V2File) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=file.key, Body=file.parquet())
        if self.notify is not None:
            self.notify(amazon.notification_body(self.bucket, [file.key]))
