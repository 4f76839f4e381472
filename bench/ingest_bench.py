"""Benchmark (c): the stream ingest handler on SQS-shaped batches into moto S3, and a cost model.

Measures the real ``adsbridge.stream.handlers.ingest.lambda_handler`` (Powertools batch processing, parsing, gzip,
``put_object``) on batches built from Amazon's samples: six datasets (metric, entity, budget), half of the
bodies in SNS envelopes. Prints messages/s, objects written, the time spent inside moto's ``PutObject``,
traced Python allocations and the process's peak RSS. Asserts nothing.

The cost section is a MODEL, not a bill: the prices are ``stream_cost.py``'s (UNVERIFIED there), Lambda time
is this machine's measured CPU time scaled to the vCPU share Lambda gives the configured memory, plus an assumed
real S3 PUT latency instead of moto's (``stream_cost.Assumptions``), and the reference architecture's fan-out
duration is an assumption, not a measurement. ``stream_bench.py`` compares v1/SQS with v1/Firehose and v2.

    .venv/bin/python bench/ingest_bench.py                       # 10,000 messages, 3 runs (+ a 100-message batch)
    .venv/bin/python bench/ingest_bench.py --messages 2000 --runs 5
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
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from infra.stream.config import StreamConfig
from tests.integration.stream.lambda_event import BUCKET, REGION, environment, queue_arn, sqs_record

import stream_cost as cost
from adsbridge_sandbox.local_lambda import LocalContext

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests/data/ams_samples"

# --- assumptions about Amazon's reference architecture --------------------------------------------------------
REFERENCE_BATCH = 10  # Amazon's sample: SqsEventSource default batch size, SNS publish_batch of 10
REFERENCE_MEMORY_MB = 128  # Amazon's sample: CDK default memory for the Python 3.9 (x86) fan-out Lambda
REFERENCE_SECONDS_PER_BATCH = 0.05  # assumed: one publish_batch round trip per invocation
IDLE_RECEIVES_PER_QUEUE_MINUTE = 15  # assumed (UNVERIFIED): an idle ESM keeps ~5 pollers on 20 s long polls
MINUTES_PER_MONTH = 60 * 24 * 30
ASSUMED = cost.Assumptions()


@dataclass
class Run:
    messages: int
    seconds: float
    put_seconds: float
    puts: int
    traced_peak_mb: float  # 0 unless traced
    failed: int


def _sample(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((SAMPLES / name).read_text())
    return value


# (sample, share of the batch): metric deltas dominate a real stream.
MIX = (
    ("sp-traffic.synthesized.json", 0.45),
    ("sp-conversion.synthesized.json", 0.25),
    ("budget-usage.synthesized.json", 0.1),
    ("campaigns.json", 0.1),
    ("adsp-adgroup-targets.app.json", 0.05),
    ("adsp-adgroup-targets.daypart.json", 0.05),
)
ENVELOPE = _sample("sp-traffic.sns-notification-envelope.synthesized.json")


def batch(size: int, seed: int = 7, mix: tuple[tuple[str, float], ...] = MIX) -> tuple[list[dict[str, Any]], int]:
    """SQS event records as the event source mapping delivers them, and the total body bytes."""
    rng = random.Random(seed)
    samples = [_sample(name) for name, _ in mix]
    weights = [share for _, share in mix]
    start = datetime(2024, 3, 3, tzinfo=UTC)
    records, body_bytes = [], 0
    for i in range(size):
        fields = dict(rng.choices(samples, weights)[0])
        if "idempotency_id" in fields:  # metric: a new delta in one of six hours
            fields["idempotency_id"] = f"bench-{seed}-{i}"
            fields["time_window_start"] = f"2024-03-03T{rng.randrange(6):02d}:00:00+00:00"
        else:
            fields["version"] = i
        body = json.dumps(fields)
        if i % 2:
            body = json.dumps({**ENVELOPE, "MessageId": f"sns-{i}", "Message": body})
        sent = start + timedelta(seconds=rng.randrange(7200))
        records.append(sqs_record(f"m-{seed}-{i}", body, queue_arn(fields["dataset_id"]), int(sent.timestamp() * 1000)))
        body_bytes += len(body.encode())
    return records, body_bytes


def run_once(records: list[dict[str, Any]], *, trace: bool = False) -> Run:
    """One invocation; ``trace`` records the peak of Python allocations (tracemalloc slows it down ~2×)."""
    from adsbridge.stream.handlers import ingest as handler

    starts: list[float] = []
    durations: list[float] = []

    def before(**_: Any) -> None:
        starts.append(time.perf_counter())

    def after(**_: Any) -> None:
        durations.append(time.perf_counter() - starts[-1])

    events = handler._s3().meta.events
    events.register("before-call.s3.PutObject", before)
    events.register("after-call.s3.PutObject", after)
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the EMF metrics line Powertools prints
        response = handler.lambda_handler({"Records": records}, LocalContext())
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory() if trace else (0, 0)
    tracemalloc.stop()  # a no-op when not tracing
    events.unregister("before-call.s3.PutObject", before)
    events.unregister("after-call.s3.PutObject", after)
    return Run(len(records), seconds, sum(durations), len(durations), peak / 2**20, len(response["batchItemFailures"]))


def lambda_seconds(run: Run, memory_mb: int) -> float:
    """Modelled billed duration on Lambda: our CPU time at Lambda's vCPU share, plus real S3 PUT latency."""
    return cost.lambda_seconds(run.seconds - run.put_seconds, memory_mb, run.puts * ASSUMED.s3_put_seconds)


def sqs_cost_per_million(message_bytes: float) -> float:
    """Both designs: Amazon's SNS sends each message into an SQS queue; the ESM receives and deletes 10 per call."""
    return cost.sqs_requests(1e6, message_bytes) / 1e6 * cost.SQS_PER_MILLION_REQUESTS


def ours_per_million(run: Run, memory_mb: int, message_bytes: float) -> dict[str, float]:
    invocations = 1e6 / run.messages
    return {
        "SQS requests": sqs_cost_per_million(message_bytes),
        **cost.lambda_cost(invocations, lambda_seconds(run, memory_mb), memory_mb),
        "S3 PUTs": invocations * run.puts / 1000 * cost.S3_PER_THOUSAND_PUTS,
    }


def reference_per_million(mean_body_bytes: float) -> dict[str, float]:
    """Amazon's sample: ESM (batch 10) → fan-out Lambda → SNS publish_batch → Firehose (raw delivery) → S3."""
    invocations = 1e6 / REFERENCE_BATCH
    gb_seconds = invocations * REFERENCE_SECONDS_PER_BATCH * REFERENCE_MEMORY_MB / 1024
    rounding = cost.FIREHOSE_RECORD_ROUNDING_BYTES
    billed_record_bytes = -(-mean_body_bytes // rounding) * rounding
    return {
        "SQS requests": sqs_cost_per_million(mean_body_bytes),
        "Lambda GB-s": gb_seconds * cost.LAMBDA_X86_PER_GB_SECOND,
        "Lambda requests": invocations / 1e6 * cost.LAMBDA_PER_MILLION_REQUESTS,
        "SNS publishes": cost.SNS_PER_MILLION_PUBLISHES,
        "SNS → Firehose delivery": 1e6 * mean_body_bytes / 2**30 * cost.SNS_TO_FIREHOSE_PER_GB,
        "Firehose ingestion": 1e6 * billed_record_bytes / 2**30 * cost.FIREHOSE_PER_GB,
        "S3 PUTs (5 MB / 300 s buffers)": 1e6 * mean_body_bytes / (5 * 2**20) / 1000 * cost.S3_PER_THOUSAND_PUTS,
    }


def idle_polling_per_month(queues: int) -> float:
    return queues * IDLE_RECEIVES_PER_QUEUE_MINUTE * MINUTES_PER_MONTH / 1e6 * cost.SQS_PER_MILLION_REQUESTS


def fixed_per_month(datasets: int) -> tuple[dict[str, float], dict[str, float]]:
    """Per realm, whatever the volume: (adsbridge, reference) for ``datasets`` subscribed datasets."""
    ours = {
        f"idle ESM polling, {datasets} queues": idle_polling_per_month(datasets),
        f"{2 * datasets + 1} alarms": (2 * datasets + 1) * cost.CLOUDWATCH_PER_ALARM_MONTH,
        "dashboard": cost.CLOUDWATCH_PER_DASHBOARD_MONTH,
        "alarm topic key (with alarm_email)": cost.KMS_PER_KEY_MONTH,
    }
    # Amazon's sample: per dataset an ingress and a confirmation queue, each with a Lambda ESM; no alarms.
    reference = {f"idle ESM polling, {2 * datasets} queues": idle_polling_per_month(2 * datasets)}
    return ours, reference


def show(title: str, lines: dict[str, float], per: str = "per million messages") -> None:
    print(f"  {title}: ${sum(lines.values()):.3f} {per}")
    for name, price in lines.items():
        print(f"    {name:32} ${price:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small", type=int, default=100, help="a low-traffic batch size to model too")
    args = parser.parse_args()
    for key, value in {**environment(), "POWERTOOLS_LOG_LEVEL": "WARNING"}.items():
        os.environ.setdefault(key, value)
    defaults = StreamConfig.model_fields
    memory_mb = int(defaults["ingest_memory_mb"].default)

    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        records, body_bytes = batch(args.messages)
        # An event source mapping reads one queue, so a small (low-traffic) batch holds one dataset.
        small, _ = batch(args.small, seed=8, mix=MIX[:1])
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        runs = [run_once(records) for _ in range(args.runs)]
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        traced = run_once(records, trace=True)
        small_runs = [run_once(small) for _ in range(args.runs)]

    best = min(runs, key=lambda r: r.seconds)
    small_best = min(small_runs, key=lambda r: r.seconds)
    print(
        f"ingest of {args.messages:,} SQS messages ({body_bytes / args.messages:.0f} B mean body, half SNS-enveloped,"
    )
    print(
        f"  {len(MIX)} samples over sp-traffic/sp-conversion/budget-usage/campaigns/adsp-adgroup-targets) into moto S3"
    )
    for i, run in enumerate(runs, 1):
        print(
            f"  run {i}: {run.seconds:.3f} s = {run.messages / run.seconds:,.0f} msg/s; {run.puts} objects; "
            f"moto PutObject {run.put_seconds:.3f} s; failed {run.failed}"
        )
    print(f"  median {statistics.median(r.messages / r.seconds for r in runs):,.0f} msg/s")
    print(f"  peak RSS {rss_after:.0f} MB (before the runs, with moto, boto3 and the batch built: {rss_before:.0f} MB)")
    print(f"  peak of Python allocations during one invocation (tracemalloc): {traced.traced_peak_mb:.1f} MB")
    print(
        f"  {args.small}-message sp-traffic batch: best {small_best.seconds * 1000:.1f} ms, {small_best.puts} objects, "
        f"{small_best.messages / small_best.seconds:,.0f} msg/s"
    )

    print(
        f"\ncost per million messages: a MODEL (prices in stream_cost.py, assumptions there and in {Path(__file__).name})"
    )
    for run in (best, small_best):
        print(
            f"  adsbridge, {run.messages:,}-message batches at {memory_mb} MB arm64: modelled "
            f"{lambda_seconds(run, memory_mb):.2f} s per invocation ({run.puts} PUTs × {ASSUMED.s3_put_seconds} s + CPU "
            f"/ {min(1.0, memory_mb / cost.LAMBDA_MB_PER_VCPU):.2f} vCPU)"
        )
        show(f"adsbridge at batch {run.messages:,}", ours_per_million(run, memory_mb, body_bytes / args.messages))
    show("Amazon's reference (Lambda fan-out → SNS → Firehose → S3)", reference_per_million(body_bytes / args.messages))
    ours, reference = fixed_per_month(len(defaults["datasets"].default))
    print("\nfixed cost per realm and month, whatever the volume: a MODEL")
    show("adsbridge", ours, "per month")
    show("Amazon's reference", reference, "per month")


if __name__ == "__main__":
    main()
