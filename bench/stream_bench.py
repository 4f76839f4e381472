"""Benchmark (d): Marketing Stream's three deliveries priced per million records, the v2 catalog's files/s, and
the bytes the v2 views read per hour of data. Prints figures; asserts nothing.

1. Measures what ``stream_cost.py``'s MODEL needs and prints its table (v1/SQS, v1/Firehose, v2 per million
   records, with the breakdown): the ingest handler's time per message on ingest_bench.py's batch of Amazon's
   samples, the record sizes and the gzip ratio of the objects it wrote, and the two figures below.
2. The v2 catalog: the real ``adsbridge.stream.handlers.v2_catalog.lambda_handler`` on SQS events of
   notifications for N files landed in moto S3 (a new hour each, so each registers a partition in moto Glue), in
   batches of the event source's size; files/s, the time inside moto's API calls, the calls per file, peak RSS.
3. The v2 views: K hours of v2 files (``adsbridge_sandbox.stream_v2_files``, the columns ``amazon.py`` assumes)
   on disk, the views' own SQL (``v2_views``) in DuckDB over them, and the bytes DuckDB's profiler reports read
   for the latest view, the hourly rollup and the rollup of one hour.

    .venv/bin/python bench/stream_bench.py                                  # 200 files, 24 hours of 5,000 records
    .venv/bin/python bench/stream_bench.py --files 20 --hours 2 --records-per-file 100 --messages 200
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import duckdb
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from infra.stream.config import StreamConfig
from tests.integration.stream.lambda_event import BUCKET, REGION, environment, sqs_record

import ingest_bench
import stream_cost as cost
from adsbridge.stream import envelope
from adsbridge.stream.v2 import amazon
from adsbridge.stream.v2.table import table_input
from adsbridge.stream.v2.views import v2_views
from adsbridge_sandbox import stream_v2_files as v2
from adsbridge_sandbox.local_lambda import LocalContext
from infra.stream import firehose, v2_catalog

V2_BUCKET = "adsbridge-v2-data"
DATABASE = "adsbridge_stream_v2_bench"
NOTIFICATIONS = "arn:aws:sqs:us-east-1:123456789012:adsbridge-v2-notifications"
START = datetime(2026, 9, 1, tzinfo=UTC)
HOURS_OF_HISTORY = 70 * 24  # what v2 delivers on subscribing (docs/marketing-stream.md)


@dataclass(frozen=True)
class IngestRun:
    cpu_seconds_per_message: float
    messages_per_second: float
    record_bytes: float
    message_bytes: float
    event_record_bytes: float
    gzip_ratio: float


@dataclass(frozen=True)
class CatalogRun:
    files: int
    seconds: float
    api_seconds: float
    calls: Counter[str]
    failed: int
    rss_before_mb: float
    rss_after_mb: float
    traced_peak_mb: float  # Python allocations during one batch (tracemalloc)


@dataclass(frozen=True)
class Scan:
    query: str
    bytes_read: int


class ApiTimer:
    """Time and count every AWS call a boto3 client makes (moto answers in-process, so its time is not Lambda's)."""

    def __init__(self, *clients: Any) -> None:
        self.clients, self.seconds, self.calls, self._started = clients, 0.0, Counter[str](), 0.0

    def _before(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}:{model.name}"] += 1
        self._started = time.perf_counter()

    def _after(self, **_: Any) -> None:
        self.seconds += time.perf_counter() - self._started

    def __enter__(self) -> ApiTimer:
        for client in self.clients:
            client.meta.events.register("before-call", self._before)
            client.meta.events.register("after-call", self._after)
        return self

    def __exit__(self, *_: object) -> None:
        for client in self.clients:
            client.meta.events.unregister("before-call", self._before)
            client.meta.events.unregister("after-call", self._after)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure_ingest(messages: int, runs: int) -> IngestRun:
    """ingest_bench's batch (Amazon's samples, half in SNS envelopes) through the ingest handler into moto S3."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    records, body_bytes = ingest_bench.batch(messages)
    bare = [envelope.parse(r["body"]) for r in records]
    record_bytes = sum(len(json.dumps(m.fields)) for m in bare if isinstance(m, envelope.Record)) / messages
    first = ingest_bench.run_once(records)
    stored = sum(o["Size"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
                 for o in page.get("Contents", []))  # fmt: skip
    found = [first, *(ingest_bench.run_once(records) for _ in range(runs - 1))]
    cpu = statistics.median((r.seconds - r.put_seconds) / r.messages for r in found)
    return IngestRun(
        cpu_seconds_per_message=cpu,
        messages_per_second=statistics.median(r.messages / r.seconds for r in found),
        record_bytes=record_bytes,
        message_bytes=body_bytes / messages,
        event_record_bytes=sum(len(json.dumps(r)) for r in records) / messages,
        gzip_ratio=stored / (record_bytes * messages),
    )


def hourly_files(hours: int, records_per_file: int, seed: int = 7) -> list[v2.V2File]:
    """One v2 file per hour from START: ``records_per_file`` records of one advertiser."""
    campaigns = max(1, records_per_file // 100)
    plan = v2.Plan(advertisers=1, campaigns=campaigns, ads=max(1, records_per_file // campaigns))
    rng = random.Random(seed)
    return [v2.hour_file(plan, rng, START + timedelta(hours=h)) for h in range(hours)]


def measure_catalog(files: int) -> CatalogRun:
    """N landed files catalogued by the real handler, in batches of the event source's size."""
    from adsbridge.stream.handlers import v2_catalog as handler

    os.environ["DATABASE"] = DATABASE
    handler._clients.cache_clear()
    s3, glue = boto3.client("s3", region_name=REGION), boto3.client("glue", region_name=REGION)
    s3.create_bucket(Bucket=V2_BUCKET)
    glue.create_database(DatabaseInput={"Name": DATABASE})
    glue.create_table(DatabaseName=DATABASE, TableInput=table_input(v2.DATASET, V2_BUCKET))
    writer = v2.Writer(s3, V2_BUCKET)
    bodies = []
    for file in hourly_files(files, records_per_file=100):  # the handler reads the footer only: size is moot
        writer.deliver(file)
        bodies.append(amazon.notification_body(V2_BUCKET, [file.key]))
    events = [
        {"Records": [sqs_record(f"n{i}", body, NOTIFICATIONS, 0) for i, body in enumerate(bodies[at:at + v2_catalog.BATCH_SIZE], at)]}
        for at in range(0, files, v2_catalog.BATCH_SIZE)
    ]  # fmt: skip
    rss_before, failed = rss_mb(), 0
    with contextlib.redirect_stdout(io.StringIO()):  # the EMF metric lines Powertools prints
        with ApiTimer(*handler._clients()) as timer:
            started = time.perf_counter()
            for event in events:
                failed += len(handler.lambda_handler(event, LocalContext())["batchItemFailures"])
            seconds = time.perf_counter() - started
        tracemalloc.start()  # one batch again (its partitions now exist), for the peak of Python allocations
        handler.lambda_handler(events[0], LocalContext())
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    handler._clients.cache_clear()
    return CatalogRun(files, seconds, timer.seconds, timer.calls, failed, rss_before, rss_mb(), traced_peak / 2**20)


def scan(con: duckdb.DuckDBPyConnection, profile: Path, query: str) -> Scan:
    """Bytes DuckDB's profiler reports read from the files for ``query``."""
    con.execute(query).fetchall()
    return Scan(query, int(json.loads(profile.read_text())["io"]["total_bytes_read"]))


def measure_views(files: list[v2.V2File], root: Path) -> tuple[float, list[Scan]]:
    """Parquet bytes per record, and the bytes read by the views' queries over ``files`` (one per hour)."""
    for file in files:
        path = root / file.key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(file.parquet())
    parquet_bytes = sum((root / f.key).stat().st_size for f in files)
    table, last = amazon.table_name(v2.DATASET), files[-1].hour
    con = duckdb.connect()
    con.execute("SET enable_external_file_cache = false")
    con.execute(f"CREATE SCHEMA {DATABASE}")
    layout = f"{root}/{v2.PREFIX}/{v2.DATASET}/*/*/*.parquet"
    con.execute(f"CREATE VIEW {DATABASE}.{table} AS SELECT * FROM read_parquet('{layout}', union_by_name = true)")
    for view in v2_views(DATABASE, v2.DATASET):
        con.execute(view.sql)
    profile = root / "profile.json"
    con.execute("SET enable_profiling = 'json'")
    con.execute(f"SET profiling_output = '{profile}'")
    queries = [
        f"SELECT * FROM {DATABASE}.{table}_latest",
        f"SELECT * FROM {DATABASE}.{table}_hourly",
        f"SELECT * FROM {DATABASE}.{table}_hourly WHERE dt = '{last:%Y-%m-%d}' AND hour = '{last:%H}'",
    ]
    scans = [scan(con, profile, q) for q in queries]
    return parquet_bytes / sum(len(f.rows) for f in files), scans


def show_costs(measured: cost.Measured, assumed: cost.Assumptions) -> None:
    lines = {"v1/SQS": cost.v1_sqs(measured, assumed), "v1/Firehose": cost.v1_firehose(measured, assumed),
             "v2": cost.v2(measured, assumed)}  # fmt: skip
    print("\ncost per million records: a MODEL (prices: stream_cost.py, UNVERIFIED; assumptions below)")
    print("  " + "  ".join(f"{name:>12}" for name in lines))
    print("  " + "  ".join(f"{'$' + format(sum(v.values()), '.3f'):>12}" for v in lines.values()))
    for name, breakdown in lines.items():
        ingest_bench.show(name, breakdown, "per million records")
    ingest_bench.show("v2, fixed", cost.v2_fixed_per_month(), "per month")
    print(f"  v1/SQS batches: {cost.ingest_messages_per_invocation(measured, assumed):,.0f} messages per invocation; "
          f"v1/Firehose: {cost.firehose_objects(measured, assumed):,.0f} objects per million records")  # fmt: skip
    for title, values in (("measured", measured), ("assumed", assumed)):
        print(f"  {title}: " + ", ".join(f"{f.name} {getattr(values, f.name):.4g}" for f in fields(values)))


def show_volume(measured: cost.Measured, assumed: cost.Assumptions) -> None:
    """The totals at other volumes: v1's per-invocation and per-flush costs, v2's per-file costs, are spread over
    fewer records when less arrives."""
    print("  at other volumes (total per million records):")
    for hourly in (1_000, 20_000, 200_000):
        at = replace(assumed, records_per_hour=hourly)
        print(f"    v1 at {hourly:>7,} records/hour: SQS ${sum(cost.v1_sqs(measured, at).values()):.3f}, "
              f"Firehose ${sum(cost.v1_firehose(measured, at).values()):.3f}")  # fmt: skip
    for per_file in (100, 5_000, 50_000):
        at = replace(assumed, v2_records_per_file=per_file)
        print(f"    v2 at {per_file:>7,} records/file: ${sum(cost.v2(measured, at).values()):.3f}")


def configured(records_per_file: int) -> cost.Assumptions:
    """The model's defaults, with what infra configures read from infra (so the model follows a change there)."""
    defaults = StreamConfig.model_fields
    return replace(
        cost.Assumptions(),
        ingest_memory_mb=int(defaults["ingest_memory_mb"].default),
        ingest_batch_size=int(defaults["batch_size"].default),
        batching_window_seconds=float(defaults["batching_window_seconds"].default),
        firehose_buffer_mb=firehose.BUFFER_MB,
        firehose_buffer_seconds=firehose.BUFFER_SECONDS,
        catalog_batch_size=v2_catalog.BATCH_SIZE,
        v2_records_per_file=records_per_file,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2_000, help="v1 messages per ingest run")
    parser.add_argument("--runs", type=int, default=3, help="ingest runs (median shown)")
    parser.add_argument("--files", type=int, default=200, help="v2 files landed for the catalog")
    parser.add_argument("--hours", type=int, default=24, help="hours of v2 files the views scan")
    parser.add_argument("--records-per-file", type=int, default=5_000, help="v2 records per file (one file an hour)")
    args = parser.parse_args()
    for key, value in {**environment(), "POWERTOOLS_LOG_LEVEL": "WARNING"}.items():
        os.environ.setdefault(key, value)

    assumed = configured(args.records_per_file)
    with mock_aws():  # the catalog first: the process's peak RSS then grows by its run alone
        catalog = measure_catalog(args.files)
        ingest = measure_ingest(args.messages, args.runs)
    print(f"v1 ingest, {args.messages:,} messages × {args.runs} runs (ingest_bench.py's mix): "
          f"{ingest.messages_per_second:,.0f} msg/s, {ingest.cpu_seconds_per_message * 1e6:.0f} µs CPU per message")  # fmt: skip
    files_per_second = catalog.files / catalog.seconds
    print(f"v2 catalog, {catalog.files} files in batches of {v2_catalog.BATCH_SIZE}: {files_per_second:,.0f} files/s "
          f"({catalog.seconds:.2f} s, of which moto's API {catalog.api_seconds:.2f} s); failed {catalog.failed}")  # fmt: skip
    print("  calls per file: " + ", ".join(f"{k} {n / catalog.files:.2f}" for k, n in sorted(catalog.calls.items())))
    print(f"  peak RSS {catalog.rss_after_mb:.0f} MB (before the catalog runs: {catalog.rss_before_mb:.0f} MB; moto "
          f"included); peak of Python allocations in one batch (tracemalloc) {catalog.traced_peak_mb:.1f} MB")  # fmt: skip
    gets = catalog.calls["s3:GetObject"] / catalog.files
    glue_calls = sum(n for k, n in catalog.calls.items() if k.startswith("glue:")) / catalog.files
    cpu_per_file = (catalog.seconds - catalog.api_seconds) / catalog.files
    waiting = gets * assumed.s3_get_seconds + glue_calls * assumed.glue_call_seconds
    on_lambda = 1 / cost.lambda_seconds(cpu_per_file, assumed.catalog_memory_mb, waiting)
    backfill = HOURS_OF_HISTORY * assumed.v2_files_per_hour / (on_lambda * v2_catalog.MAX_CONCURRENCY)
    print(f"  modelled on Lambda ({assumed.catalog_memory_mb} MB, real call latencies): {on_lambda:.1f} files/s per "
          f"instance; the 70-day history ({HOURS_OF_HISTORY * assumed.v2_files_per_hour:,.0f} files) in "
          f"{backfill / 60:.0f} min at the event source's {v2_catalog.MAX_CONCURRENCY} instances")  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        parquet_per_record, scans = measure_views(hourly_files(args.hours, args.records_per_file), Path(tmp))
    stored = parquet_per_record * args.records_per_file * args.hours
    print(f"v2 views over {args.hours} hours × {args.records_per_file:,} records: {stored / 1e6:.2f} MB of files, "
          f"{parquet_per_record:.1f} bytes per record (the mapped columns only); DuckDB's bytes read, footers included:")  # fmt: skip
    for found in scans:
        per_hour = found.bytes_read / args.hours
        print(f"  {found.bytes_read / 1e6:9.2f} MB read = {per_hour / 1e3:8.1f} kB per hour of data; "
              f"70 days: ${cost.athena_scan(per_hour * HOURS_OF_HISTORY):.4f} per query  {found.query}")  # fmt: skip

    measured = cost.Measured(
        record_bytes=ingest.record_bytes,
        message_bytes=ingest.message_bytes,
        event_record_bytes=ingest.event_record_bytes,
        gzip_ratio=ingest.gzip_ratio,
        ingest_cpu_seconds_per_message=ingest.cpu_seconds_per_message,
        catalog_cpu_seconds_per_file=cpu_per_file,
        catalog_s3_gets_per_file=gets,
        catalog_glue_calls_per_file=glue_calls,
        parquet_bytes_per_record=parquet_per_record,
    )
    show_costs(measured, assumed)
    show_volume(measured, assumed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
