"""The sandbox's v2 files follow amazon.py's assumptions: the catalog reads the table's columns from their footers,
their notifications parse back to their keys and partitions, and the truth is the newest version's totals."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from adsbridge.stream.v2 import amazon, footer
from adsbridge_sandbox import stream_v2_files as v2

NOW = datetime(2026, 12, 6, 10, 37, tzinfo=UTC)
PLAN = v2.Plan(advertisers=2, campaigns=3, ads=2)


def test_a_file_catalogues_as_the_table_and_a_grown_one_adds_only_its_column() -> None:
    file = v2.hour_file(PLAN, random.Random(1), NOW)
    assert footer.columns(pq.read_schema(io.BytesIO(file.parquet()))) == dict(amazon.table_columns())
    grown = v2.hour_file(PLAN, random.Random(1), NOW, extra={"topic": "struct<id:string,rank:int>"})
    assert footer.columns(pq.read_schema(io.BytesIO(grown.parquet()))) == {
        **dict(amazon.table_columns()),
        "topic": "struct<id:string,rank:int>",
    }


def test_a_file_holds_every_record_of_its_hour_with_its_version_and_window() -> None:
    file = v2.hour_file(PLAN, random.Random(1), NOW, version=4)
    rows = pq.read_table(io.BytesIO(file.parquet())).to_pylist()
    assert len(rows) == 2 * 3 * 2 == len({r for r, _ in file.rows})
    window = amazon.DIMENSIONS[amazon.WINDOW_START]
    assert {r[window.column] for r in rows} == {"2026-12-06T10:00:00Z"}
    assert {r[amazon.VERSION.column][amazon.VERSION.path] for r in rows} == {4}
    products = amazon.DIMENSIONS["ad_product"]
    assert {r[products.column][products.path] for r in rows} == {amazon.SPONSORED_PRODUCTS}


def test_the_notification_parses_back_to_the_key_and_the_hour_partition() -> None:
    file = v2.hour_file(PLAN, random.Random(1), NOW, name="part 1+x")
    (landed,) = amazon.landed_files(amazon.notification_body("bkt", [file.key]))
    assert (landed.bucket, landed.key, landed.dataset) == ("bkt", file.key, v2.DATASET)
    assert landed.partition == ("2026-12-06", "10")


def test_history_is_one_file_per_hour_before_now() -> None:
    files = v2.history(PLAN, random.Random(1), NOW, days=2)
    assert len(files) == 48
    assert files[0].hour == datetime(2026, 12, 4, 10, tzinfo=UTC)
    assert files[-1].hour == datetime(2026, 12, 6, 9, tzinfo=UTC)


def test_a_restated_hour_arrives_newest_first_and_the_truth_is_its_highest_version() -> None:
    rng = random.Random(3)
    first = v2.hour_file(PLAN, rng, NOW)
    later = v2.restated(rng, first, versions=2)
    assert [f.version for f in later] == [3, 2]
    assert {r for r, _ in later[0].rows} == {r for r, _ in first.rows}  # the same records
    truth = v2.Delivery([first, *later]).truth()
    assert truth == dict(later[0].rows)
    assert all(truth[r]["clicks"] >= t["clicks"] for r, t in later[1].rows)  # restated totals grow
    assert truth != dict(later[1].rows)  # the last to arrive is not the answer


def test_the_scenario_has_history_live_hours_a_grown_file_and_a_restatement() -> None:
    delivery = v2.scenario(PLAN, seed=5, now=NOW, history_days=1, live_hours=3)
    versions = [f.version for f in delivery.files]
    assert versions == [1] * (24 + 3) + [3, 2]
    assert [f.extra for f in delivery.files if f.extra] == [v2.GROWN]
    hourly = delivery.hourly_truth()
    assert len(hourly) == (24 + 3) * 2 * 3  # hours × advertisers × campaigns
    restated_hour = ("SPONSORED_PRODUCTS", "ADV1", "101", "2026-12-06", "10")
    names = list(amazon.DIMENSIONS)
    newest = [(dict(zip(names, r, strict=True)), t) for r, t in delivery.files[-2].rows]
    expected = sum(t["clicks"] for d, t in newest if (d["advertiser_id"], d["campaign_id"]) == ("ADV1", "101"))
    assert hourly[restated_hour]["clicks"] == expected and hourly[restated_hour]["records"] == 2


def test_arrow_types_round_trip_and_an_unknown_type_is_refused() -> None:
    assert v2.arrow_type("struct<version:bigint>") == pa.struct([("version", pa.int64())])
    assert v2.arrow_type("array<struct<a:string,b:double>>") == pa.list_(
        pa.struct([("a", pa.string()), ("b", pa.float64())])
    )
    assert v2.arrow_type("map<string,bigint>") == pa.map_(pa.string(), pa.int64())
    with pytest.raises(KeyError):
        v2.arrow_type("decimal(10,2)")


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def put_object(self, **kwargs: Any) -> None:
        self.calls.append(("put", kwargs))

    def send_message(self, **kwargs: Any) -> None:
        self.calls.append(("send", kwargs))


def test_the_writer_puts_the_file_before_its_notification() -> None:
    aws = Recorder()
    file = v2.hour_file(PLAN, random.Random(1), NOW)
    v2.Writer(aws, "bkt", v2.queue_sender(aws, "https://queue")).deliver(file)
    (put, put_args), (send, send_args) = aws.calls
    assert (put, send) == ("put", "send")
    assert put_args["Key"] == file.key and pq.read_table(io.BytesIO(put_args["Body"])).num_rows == 12
    assert [f.key for f in amazon.landed_files(send_args["MessageBody"])] == [file.key]
    assert send_args["QueueUrl"] == "https://queue"
