"""The v2 catalog Lambda against moto (S3, Glue) with SQS events: Parquet files whose schema grows (new columns,
a struct gaining a field), a re-sent notification, a file lacking a column, a column whose type changes, bad
messages, and two writers at once."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
from botocore.exceptions import ClientError
from tests.integration.stream.lambda_event import sqs_record

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "stream-v2-catalog")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "adsbridge")

from adsbridge.stream.handlers import v2_catalog as handler
from adsbridge.stream.v2 import amazon, footer
from adsbridge.stream.v2.catalog import Catalog, FileRefused
from adsbridge.stream.v2.table import table_input
from adsbridge_sandbox.duck import download, v2_catalog
from adsbridge_sandbox.local_lambda import LocalContext

BUCKET = "adsbridge-v2-data"
DATABASE = "adsbridge_stream_v2_na"
TABLE = amazon.table_name("ads-performance-v1")
ARN = "arn:aws:sqs:us-east-1:123456789012:adsbridge-v2-notifications"
# The mapped columns as Amazon is assumed to write them (amazon.py), one row.
BASE = (
    "{'version': 1::BIGINT} AS streamBatch, {'value': 'SPONSORED_PRODUCTS'} AS adProduct, 'A1' AS advertiserId, "
    "'M1' AS marketplaceId, '111' AS campaignId, '2' AS adGroupId, '3' AS adId, '4' AS targetingId, 'TOP' AS placement, "
    "'USD' AS currency, '2026-12-01T10:00:00Z' AS timeWindowStart, '2026-12-01T11:00:00Z' AS timeWindowEnd, "
    "5::BIGINT AS impressions, 1::BIGINT AS clicks, 0.5::DOUBLE AS cost, 0.0::DOUBLE AS sales, 0::BIGINT AS purchases"
)


@pytest.fixture
def aws(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    monkeypatch.setenv("DATABASE", DATABASE)
    handler._clients.cache_clear()
    s3, glue = boto3.client("s3"), boto3.client("glue")
    s3.create_bucket(Bucket=BUCKET)
    glue.create_database(DatabaseInput={"Name": DATABASE})
    glue.create_table(DatabaseName=DATABASE, TableInput=table_input("ads-performance-v1", BUCKET))
    yield s3, glue
    handler._clients.cache_clear()


def parquet(tmp_path: Path, select: str) -> bytes:
    path = tmp_path / f"{abs(hash(select))}.parquet"
    duckdb.sql(f"COPY (SELECT {select}) TO '{path}' (FORMAT parquet)")
    return path.read_bytes()


def land(s3: Any, key: str, data: bytes) -> str:
    """Put the file; the notification Amazon is assumed to send for it (amazon.RECORDS_FIELD)."""
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    return json.dumps({"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": key}}}]})


def invoke(*bodies: str) -> set[str]:
    records = [sqs_record(f"m{i}", body, ARN, 0) for i, body in enumerate(bodies)]
    response = handler.lambda_handler({"Records": records}, LocalContext())  # type: ignore[arg-type]
    return {item["itemIdentifier"] for item in response["batchItemFailures"]}


def columns(glue: Any) -> dict[str, str]:
    table = glue.get_table(DatabaseName=DATABASE, Name=TABLE)["Table"]
    return {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}


def partitions(glue: Any) -> dict[tuple[str, ...], str]:
    found = glue.get_partitions(DatabaseName=DATABASE, TableName=TABLE)["Partitions"]
    return {tuple(p["Values"]): p["StorageDescriptor"]["Location"] for p in found}


KEY_10 = "amzn/ads-performance-v1/2026-12-01/10/part-0.parquet"
KEY_11 = "amzn/ads-performance-v1/2026-12-01/11/part-0.parquet"


def test_a_growing_schema_adds_columns_and_every_file_registers_its_partition(aws: Any, tmp_path: Path) -> None:
    s3, glue = aws
    before = columns(glue)
    assert invoke(land(s3, KEY_10, parquet(tmp_path, BASE))) == set()
    assert columns(glue) == before  # the mapped columns were there from the start
    grown = parquet(tmp_path, BASE + ", 7::BIGINT AS detailPageViews, {'id': 'x', 'rank': 2::INT} AS topic")
    assert invoke(land(s3, KEY_11, grown)) == set()
    assert columns(glue) == {**before, "detailpageviews": "bigint", "topic": "struct<id:string,rank:int>"}
    assert partitions(glue) == {
        ("2026-12-01", "10"): f"s3://{BUCKET}/amzn/ads-performance-v1/2026-12-01/10/",
        ("2026-12-01", "11"): f"s3://{BUCKET}/amzn/ads-performance-v1/2026-12-01/11/",
    }


def test_a_resent_notification_and_a_second_file_of_the_hour_are_fine(aws: Any, tmp_path: Path) -> None:
    s3, glue = aws
    body = land(s3, KEY_10, parquet(tmp_path, BASE))
    second = land(s3, KEY_10.replace("part-0", "part-1"), parquet(tmp_path, BASE))
    assert invoke(body, body, second) == set()
    assert list(partitions(glue)) == [("2026-12-01", "10")]


def test_a_column_missing_from_a_new_file_stays_in_the_table(aws: Any, tmp_path: Path) -> None:
    s3, glue = aws
    assert invoke(land(s3, KEY_10, parquet(tmp_path, BASE + ", 7::BIGINT AS detailPageViews"))) == set()
    assert invoke(land(s3, KEY_11, parquet(tmp_path, "'only' AS campaignId"))) == set()
    assert "detailpageviews" in columns(glue) and "impressions" in columns(glue)


@pytest.mark.parametrize(
    ("column", "was", "now"),
    [
        ("impressions", "5::BIGINT AS impressions", "'5' AS impressions"),
        ("streambatch", "{'version': 1::BIGINT} AS streamBatch", "{'version': '1', 'restated': true} AS streamBatch"),
    ],
)
def test_a_changed_type_is_counted_and_the_table_keeps_its_type(
    aws: Any, tmp_path: Path, column: str, was: str, now: str
) -> None:
    s3, glue = aws
    before = columns(glue)[column]
    catalog = Catalog(glue=glue, s3=s3, database=DATABASE)
    catalog.catalogue(land(s3, KEY_10, parquet(tmp_path, BASE.replace(was, now))))
    assert columns(glue)[column] == before  # a field gained next to a retyped one widens nothing either
    assert catalog.counts["ColumnTypeConflicts"] == 1 and catalog.counts["ColumnsWidened"] == 0
    assert list(partitions(glue)) == [("2026-12-01", "10")]  # the file is still there to read


STREAM_BATCH = "{'version': 1::BIGINT} AS streamBatch"
RESTATED = BASE.replace(STREAM_BATCH, "{'version': 2::BIGINT, 'restated': true} AS streamBatch")


def test_a_struct_that_gains_a_field_is_widened_and_both_files_read_it(aws: Any, tmp_path: Path) -> None:
    s3, glue = aws
    assert columns(glue)["streambatch"] == "struct<version:bigint>"
    assert invoke(land(s3, KEY_10, parquet(tmp_path, BASE))) == set()
    catalog = Catalog(glue=glue, s3=s3, database=DATABASE)
    catalog.catalogue(land(s3, KEY_11, parquet(tmp_path, RESTATED)))
    assert columns(glue)["streambatch"] == "struct<version:bigint,restated:boolean>"
    assert catalog.counts["ColumnsWidened"] == 1 and catalog.counts["ColumnTypeConflicts"] == 0
    # A later file of the old shape lacks the field: nothing changes, it reads null there.
    again = Catalog(glue=glue, s3=s3, database=DATABASE)
    again.catalogue(land(s3, KEY_10.replace("part-0", "part-1"), parquet(tmp_path, BASE)))
    assert columns(glue)["streambatch"] == "struct<version:bigint,restated:boolean>"
    assert again.counts["ColumnsWidened"] == again.counts["ColumnTypeConflicts"] == 0
    # Each partition keeps the type it was registered with; the old one is a prefix of the table's (new fields
    # are only appended), which Trino's partition-to-table struct coercion accepts (docs/marketing-stream.md).
    found = glue.get_partitions(DatabaseName=DATABASE, TableName=TABLE)["Partitions"]
    types = {p["Values"][1]: {c["Name"]: c["Type"] for c in p["StorageDescriptor"]["Columns"]} for p in found}
    assert types["10"]["streambatch"] == "struct<version:bigint>"
    assert types["11"]["streambatch"] == "struct<version:bigint,restated:boolean>"
    con = duckdb.connect()
    v2_catalog(con, download(s3, BUCKET, tmp_path / "bucket"), glue, DATABASE, "ads-performance-v1")
    rows = con.execute(
        f"SELECT streambatch.version, streambatch.restated FROM {DATABASE}.{TABLE} ORDER BY ALL"
    ).fetchall()
    assert rows == [(1, None), (1, None), (2, True)]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "malformed_notification"),
        (json.dumps({"Records": []}), "malformed_notification"),
        (json.dumps({"bucket": BUCKET, "key": KEY_10}), "malformed_notification"),
        (json.dumps({"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": "x/y.parquet"}}}]}), "unexpected_key_layout"),
        (json.dumps({"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": "p/other-v9/2026-12-01/10/f.parquet"}}}]}), "unknown_dataset"),
    ],
)  # fmt: skip
def test_a_bad_message_fails_alone_with_its_reason_counted(aws: Any, tmp_path: Path, body: str, reason: str) -> None:
    s3, glue = aws
    good = land(s3, KEY_10, parquet(tmp_path, BASE))
    assert invoke(good, body) == {"m1"}  # to the DLQ after the queue's receive limit
    catalog = Catalog(glue=glue, s3=s3, database=DATABASE)
    with pytest.raises(FileRefused) as refused:
        catalog.catalogue(body)
    assert refused.value.reason == reason and catalog.counts == {f"Refused_{reason}": 1}
    assert BUCKET not in str(refused.value)  # the reason, not the message's contents


def test_an_object_that_is_not_parquet_is_refused(aws: Any) -> None:
    s3, glue = aws
    body = land(s3, KEY_10, b'{"json": "lines"}\n' * 10)
    with pytest.raises(FileRefused, match="magic"):
        Catalog(glue=glue, s3=s3, database=DATABASE).catalogue(body)


class CountingS3:
    """Records the ranges asked for: the footer must come from the tail, never the whole file."""

    def __init__(self, s3: Any) -> None:
        self.s3, self.ranges = s3, []

    def get_object(self, **kwargs: Any) -> Any:
        self.ranges.append(kwargs.get("Range"))
        return self.s3.get_object(**kwargs)


def test_only_the_tail_is_read_and_a_long_footer_takes_a_second_ranged_get(aws: Any, tmp_path: Path) -> None:
    s3, _ = aws
    wide = ", ".join(f"{i}::BIGINT AS metric_with_a_long_name_{i}" for i in range(2000))
    data = parquet(tmp_path, f"{BASE}, random() AS noise, {wide} FROM range(200000)")
    footer_length = int.from_bytes(data[-8:-4], "little")
    assert footer.TAIL_BYTES < footer_length + 8 < len(data) // 2
    land(s3, KEY_10, data)
    counting = CountingS3(s3)
    found = footer.columns(footer.read_schema(counting, BUCKET, KEY_10))
    assert len(found) == 17 + 1 + 2000
    assert counting.ranges == [f"bytes=-{footer.TAIL_BYTES}", f"bytes=-{footer_length + 8}"]


class RacingGlue:
    """Glue whose UpdateTable enforces VersionId as Glue does (moto ignores it), with another writer setting
    columns' types (adding or widening them) between this writer's GetTable and its first UpdateTable."""

    def __init__(self, glue: Any, other: dict[str, str]) -> None:
        self.glue, self.other, self.updates = glue, other, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.glue, name)

    def update_table(self, **kwargs: Any) -> Any:
        self.updates += 1
        if self.updates == 1:  # the other invocation wins the race
            current = self.glue.get_table(DatabaseName=kwargs["DatabaseName"], Name=TABLE)["Table"]
            storage = dict(current["StorageDescriptor"])
            names = {c["Name"] for c in storage["Columns"]}
            storage["Columns"] = [
                *({**c, "Type": self.other.get(c["Name"], c["Type"])} for c in storage["Columns"]),
                *({"Name": n, "Type": t} for n, t in self.other.items() if n not in names),
            ]
            keys = ("Name", "StorageDescriptor", "PartitionKeys", "TableType", "Parameters")
            self.glue.update_table(
                DatabaseName=DATABASE, TableInput={**{k: current[k] for k in keys}, "StorageDescriptor": storage}
            )
        current = self.glue.get_table(DatabaseName=kwargs["DatabaseName"], Name=TABLE)["Table"]
        if kwargs["VersionId"] != current["VersionId"]:
            raise ClientError({"Error": {"Code": "ConcurrentModificationException", "Message": "stale"}}, "UpdateTable")
        return self.glue.update_table(**kwargs)


def test_two_writers_adding_columns_at_once_lose_neither(aws: Any, tmp_path: Path) -> None:
    s3, glue = aws
    racing = RacingGlue(glue, {"fromtheother": "double"})
    catalog = Catalog(glue=racing, s3=s3, database=DATABASE)
    catalog.catalogue(land(s3, KEY_10, parquet(tmp_path, BASE + ", 1::BIGINT AS fromthisone")))
    assert {"fromtheother": "double", "fromthisone": "bigint"}.items() <= columns(glue).items()
    assert catalog.counts["TableUpdateRetries"] == 1 and racing.updates == 2


def test_two_writers_widening_one_struct_at_once_lose_neither_field(aws: Any, tmp_path: Path) -> None:
    s3, glue = aws
    racing = RacingGlue(glue, {"streambatch": "struct<version:bigint,fromtheother:double>"})
    catalog = Catalog(glue=racing, s3=s3, database=DATABASE)
    mine = BASE.replace(STREAM_BATCH, "{'version': 1::BIGINT, 'fromthisone': 1::BIGINT} AS streamBatch")
    catalog.catalogue(land(s3, KEY_10, parquet(tmp_path, mine)))
    assert columns(glue)["streambatch"] == "struct<version:bigint,fromtheother:double,fromthisone:bigint>"
    assert catalog.counts["TableUpdateRetries"] == 1 and racing.updates == 2
    assert catalog.counts["ColumnsWidened"] == 1
