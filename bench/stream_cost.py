"""Cost per million Marketing Stream records for the three deliveries, v1 over SQS, v1 over Firehose and v2, in one
MODEL (not a bill): the AWS prices are the constants below, everything else a named field of ``Measured`` (what
``stream_bench.py`` measures on this machine) or ``Assumptions`` (what cannot be measured here).

What each delivery costs us (docs/marketing-stream.md), as configured in infra/stream:
- v1/SQS: Amazon's SNS sends each record to our queue (the queue owner pays the SQS requests); the ingest Lambda
  receives them in batches and writes one object per dt/hour partition a batch spans. Queues are SSE-SQS and the
  raw bucket SSE-S3 (infra/stream/stack.py): no KMS request is ours.
- v1/Firehose: Amazon's SNS puts each record into our delivery stream; Firehose bills ingestion with each record
  rounded up to 5 KB, dynamic partitioning per GB, per object and per JQ hour, and writes one object per partition
  per buffer flush (infra/stream/firehose.py's buffering hints). No Lambda, no queue; the stream's key is AWS owned.
- v2: Amazon writes the Parquet files itself into our bucket (the bucket owner pays the PUTs) and sends one
  notification per file to our queue; the catalog Lambda reads each file's footer and registers its partition in
  Glue (functions/adsbridge/stream/v2/catalog.py). Bucket and queue use customer-managed keys (infra/stream/v2_landing.py).

A record is not the same unit in v1 and v2: a v1 record is one delta message, a v2 record one row of replacement
totals per record key and time window, so the same traffic may be fewer v2 records than v1 records.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# --- prices: USD, us-east-1 list prices as read from the AWS pricing page named on each line. ---------------------
# UNVERIFIED: written from the pages as read in 2025-2026, not re-checked here (no internet). Correct them here only.
SQS_PER_MILLION_REQUESTS = 0.40  # aws.amazon.com/sqs/pricing: Standard queue, per 1M requests
SQS_REQUEST_CHUNK_BYTES = 64 * 1024  # ibid.: each 64 KB chunk of a request's payload is billed as one request
LAMBDA_ARM_PER_GB_SECOND = 0.0000133334  # aws.amazon.com/lambda/pricing: Arm, first 7.5B GB-s/month
LAMBDA_X86_PER_GB_SECOND = 0.0000166667  # aws.amazon.com/lambda/pricing: x86, first 6B GB-s/month
LAMBDA_PER_MILLION_REQUESTS = 0.20  # aws.amazon.com/lambda/pricing
S3_PER_THOUSAND_PUTS = 0.005  # aws.amazon.com/s3/pricing: S3 Standard PUT, COPY, POST, LIST
S3_PER_THOUSAND_GETS = 0.0004  # aws.amazon.com/s3/pricing: S3 Standard GET, SELECT and all other requests
S3_STANDARD_PER_GB_MONTH = 0.023  # aws.amazon.com/s3/pricing: S3 Standard, first 50 TB/month
SNS_PER_MILLION_PUBLISHES = 0.50  # aws.amazon.com/sns/pricing: standard topic requests (each batch entry counts)
SNS_TO_FIREHOSE_PER_GB = 0.03  # aws.amazon.com/sns/pricing: delivery to Data Firehose, per GB
FIREHOSE_PER_GB = 0.029  # aws.amazon.com/firehose/pricing: Direct PUT, first 500 TB/month
FIREHOSE_RECORD_ROUNDING_BYTES = 5 * 1024  # ibid.: each record is billed rounded up to the next 5 KB
FIREHOSE_PARTITIONING_PER_GB = 0.020  # ibid.: dynamic partitioning, per GB delivered
FIREHOSE_PARTITIONING_PER_THOUSAND_OBJECTS = 0.005  # ibid.: dynamic partitioning, per 1,000 S3 objects delivered
FIREHOSE_JQ_PER_HOUR = 0.07  # ibid.: dynamic partitioning, per hour of JQ processing
KMS_PER_KEY_MONTH = 1.00  # aws.amazon.com/kms/pricing: customer managed key
KMS_PER_TEN_THOUSAND_REQUESTS = 0.03  # aws.amazon.com/kms/pricing: symmetric key requests
GLUE_PER_MILLION_REQUESTS = 1.00  # aws.amazon.com/glue/pricing: Data Catalog requests beyond the first million/month
ATHENA_PER_TB_SCANNED = 5.00  # aws.amazon.com/athena/pricing: SQL queries, per TB scanned
ATHENA_MIN_BYTES_PER_QUERY = 10 * 2**20  # ibid.: each query is billed at least 10 MB
CLOUDWATCH_PER_ALARM_MONTH = 0.10  # aws.amazon.com/cloudwatch/pricing: standard-resolution alarm metric
CLOUDWATCH_PER_DASHBOARD_MONTH = 3.00  # ibid. (the first three dashboards of an account are free)
# --- AWS limits the model depends on (the Lambda developer guide), UNVERIFIED as above -----------------------------
LAMBDA_MB_PER_VCPU = 1769  # a function gets one full vCPU at 1,769 MB, proportionally less below
LAMBDA_PAYLOAD_BYTES = 6 * 2**20  # an event source mapping's batch is cut at the 6 MB invocation payload
SQS_MESSAGES_PER_RECEIVE = 10  # an event source mapping receives (and deletes) at most 10 messages per call
GB = 2**30

Lines = dict[str, float]


@dataclass(frozen=True)
class Measured:
    """Figures ``stream_bench.py`` measures on this machine (how: each field's comment), printed with the table."""

    record_bytes: float  # mean bare v1 record, as Firehose receives it and ingest stores it (Amazon's samples)
    message_bytes: float  # mean SQS message body: the same records, half in SNS envelopes
    event_record_bytes: float  # one message inside Lambda's SQS event (attributes, ARN, receipt handle)
    gzip_ratio: float  # stored gzip bytes / bare record bytes (optimistic: the bench repeats a few samples)
    ingest_cpu_seconds_per_message: float  # the ingest handler's time per message, moto's PutObject time excluded
    catalog_cpu_seconds_per_file: float  # the catalog handler's time per file, moto's API time excluded
    catalog_s3_gets_per_file: float  # footer GETs (one, two for a long footer)
    catalog_glue_calls_per_file: float  # GetTable + BatchCreatePartition (+ UpdateTable when columns grow)
    parquet_bytes_per_record: float  # v2 files as stream_bench writes them (the mapped columns only)


@dataclass(frozen=True)
class Assumptions:
    """What cannot be measured here; every default is a guess, named so that a better one is one edit."""

    records_per_hour: float = 20_000  # v1 records per dataset (one queue or delivery stream) in a busy hour
    partitions_per_batch: float = 2  # dt/hour partitions one ingest batch or Firehose buffer spans (late restatements)
    ingest_memory_mb: int = 1024  # infra/stream/config.py StreamConfig.ingest_memory_mb (stream_bench reads it)
    ingest_batch_size: int = 10_000  # StreamConfig.batch_size (stream_bench reads it)
    batching_window_seconds: float = 60  # StreamConfig.batching_window_seconds (stream_bench reads it)
    firehose_buffer_mb: float = 64  # infra/stream/firehose.py BUFFER_MB (stream_bench reads it)
    firehose_buffer_seconds: float = 300  # infra/stream/firehose.py BUFFER_SECONDS (stream_bench reads it)
    firehose_jq_seconds_per_record: float = 0.0001  # JQ processing time Firehose bills per record (a guess)
    v2_records_per_file: float = 5_000  # UNVERIFIED: Amazon's v2 file sizes are not documented
    v2_notification_bytes: float = 1024  # UNVERIFIED: the notification body (adsbridge.stream.v2.amazon assumes S3's)
    v2_files_per_hour: float = 4  # "updates as often as every 15 minutes" (docs/marketing-stream.md)
    catalog_memory_mb: int = 512  # infra/constructs/function.py's default, which the catalog function keeps
    catalog_batch_size: int = 10  # infra/stream/v2_catalog.py BATCH_SIZE (stream_bench reads it)
    sqs_data_key_reuse_seconds: float = 300  # SQS's default; infra/stream/v2_landing.py sets none
    bucket_key_kms_share: float = 0.01  # KMS calls per S3 request with the bucket key on ("up to 99 % fewer")
    s3_put_seconds: float = 0.03  # real PutObject latency from Lambda (moto's is in-process)
    s3_get_seconds: float = 0.02  # real ranged GetObject latency from Lambda
    glue_call_seconds: float = 0.05  # real Glue Data Catalog call latency from Lambda
    storage_months: float = 1  # how long the stored bytes are priced for


def lambda_seconds(cpu_seconds: float, memory_mb: int, waiting_seconds: float) -> float:
    """Billed duration: our CPU time at the vCPU share Lambda gives ``memory_mb``, plus the time spent waiting
    for AWS calls (real latencies, not moto's in-process ones)."""
    return cpu_seconds / min(1.0, memory_mb / LAMBDA_MB_PER_VCPU) + waiting_seconds


def lambda_cost(invocations: float, seconds_each: float, memory_mb: int) -> Lines:
    return {
        "Lambda requests": invocations / 1e6 * LAMBDA_PER_MILLION_REQUESTS,
        "Lambda GB-s (arm64)": invocations * seconds_each * memory_mb / 1024 * LAMBDA_ARM_PER_GB_SECOND,
    }


def sqs_requests(messages: float, body_bytes: float) -> float:
    """SendMessage per message, then receives and batch deletes of 10: each billed per started 64 KB chunk."""
    sends = messages * math.ceil(body_bytes / SQS_REQUEST_CHUNK_BYTES)
    calls = messages / SQS_MESSAGES_PER_RECEIVE
    receives = calls * math.ceil(SQS_MESSAGES_PER_RECEIVE * body_bytes / SQS_REQUEST_CHUNK_BYTES)
    return sends + receives + calls


def storage(bytes_per_record: float, a: Assumptions) -> float:
    return 1e6 * bytes_per_record / GB * S3_STANDARD_PER_GB_MONTH * a.storage_months


def ingest_messages_per_invocation(m: Measured, a: Assumptions) -> float:
    """The event source's batch: the batch size, the 6 MB payload, or what arrives in one batching window."""
    payload_cap = LAMBDA_PAYLOAD_BYTES // m.event_record_bytes
    return max(1.0, min(a.ingest_batch_size, payload_cap, a.records_per_hour * a.batching_window_seconds / 3600))


def v1_sqs(m: Measured, a: Assumptions) -> Lines:
    per_invocation = ingest_messages_per_invocation(m, a)
    invocations = 1e6 / per_invocation
    cpu = per_invocation * m.ingest_cpu_seconds_per_message
    seconds = lambda_seconds(cpu, a.ingest_memory_mb, a.partitions_per_batch * a.s3_put_seconds)
    return {
        "SQS requests": sqs_requests(1e6, m.message_bytes) / 1e6 * SQS_PER_MILLION_REQUESTS,
        **lambda_cost(invocations, seconds, a.ingest_memory_mb),
        "S3 PUTs": invocations * a.partitions_per_batch / 1000 * S3_PER_THOUSAND_PUTS,
        "KMS (SSE-SQS queue, SSE-S3 bucket)": 0.0,
        "S3 storage (gzip JSON)": storage(m.record_bytes * m.gzip_ratio, a),
    }


def firehose_objects(m: Measured, a: Assumptions) -> float:
    """Objects per million records: one per partition per flush; a flush at the interval or at a full buffer."""
    hours = 1e6 / a.records_per_hour
    by_size = a.records_per_hour * m.record_bytes / (a.firehose_buffer_mb * 2**20)
    flushes_per_hour = max(3600 / a.firehose_buffer_seconds, by_size)
    return hours * flushes_per_hour * a.partitions_per_batch


def v1_firehose(m: Measured, a: Assumptions) -> Lines:
    billed = math.ceil(m.record_bytes / FIREHOSE_RECORD_ROUNDING_BYTES) * FIREHOSE_RECORD_ROUNDING_BYTES
    objects = firehose_objects(m, a)
    return {
        "SNS delivery to Firehose (Amazon's topic)": 0.0,  # UNVERIFIED: billed to the topic owner, as SNS → SQS is
        "Firehose ingestion (5 KB rounding)": 1e6 * billed / GB * FIREHOSE_PER_GB,
        "dynamic partitioning per GB": 1e6 * m.record_bytes / GB * FIREHOSE_PARTITIONING_PER_GB,
        "dynamic partitioning per object": objects / 1000 * FIREHOSE_PARTITIONING_PER_THOUSAND_OBJECTS,
        "dynamic partitioning JQ hours": 1e6 * a.firehose_jq_seconds_per_record / 3600 * FIREHOSE_JQ_PER_HOUR,
        "S3 PUTs (one per partition and flush)": objects / 1000 * S3_PER_THOUSAND_PUTS,
        "S3 storage (gzip JSON)": storage(m.record_bytes * m.gzip_ratio, a),
    }


def v2(m: Measured, a: Assumptions) -> Lines:
    files = 1e6 / a.v2_records_per_file
    hours = files / a.v2_files_per_hour
    invocations = files / a.catalog_batch_size
    waiting = m.catalog_s3_gets_per_file * a.s3_get_seconds + m.catalog_glue_calls_per_file * a.glue_call_seconds
    cpu = m.catalog_cpu_seconds_per_file
    seconds = a.catalog_batch_size * lambda_seconds(cpu, a.catalog_memory_mb, waiting)
    # the queue key: one GenerateDataKey (Amazon's sends) and one Decrypt (our receives) per reuse period
    queue_kms = hours * 2 * 3600 / a.sqs_data_key_reuse_seconds
    bucket_kms = files * (1 + m.catalog_s3_gets_per_file) * a.bucket_key_kms_share
    notifications = sqs_requests(files, a.v2_notification_bytes)
    return {
        "S3 PUTs (Amazon's, billed to the bucket owner)": files / 1000 * S3_PER_THOUSAND_PUTS,
        "S3 GETs (footers)": files * m.catalog_s3_gets_per_file / 1000 * S3_PER_THOUSAND_GETS,
        "SQS requests (a notification per file)": notifications / 1e6 * SQS_PER_MILLION_REQUESTS,
        **lambda_cost(invocations, seconds, a.catalog_memory_mb),
        "Glue Data Catalog requests": files * m.catalog_glue_calls_per_file / 1e6 * GLUE_PER_MILLION_REQUESTS,
        # UNVERIFIED who pays the KMS requests S3 and SQS make for Amazon's PublisherRole: counted as ours here
        "KMS requests (queue key, bucket key)": (queue_kms + bucket_kms) / 1e4 * KMS_PER_TEN_THOUSAND_REQUESTS,
        "S3 storage (Parquet)": storage(m.parquet_bytes_per_record, a),
    }


def v2_fixed_per_month() -> Lines:
    return {"two customer-managed keys (data, queue) per region": 2 * KMS_PER_KEY_MONTH}


def athena_scan(bytes_scanned: float) -> float:
    """One query's price for ``bytes_scanned`` (Athena bills at least 10 MB a query)."""
    return max(bytes_scanned, ATHENA_MIN_BYTES_PER_QUERY) / 2**40 * ATHENA_PER_TB_SCANNED
