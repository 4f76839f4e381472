"""Audiences out: a customer file dropped into the input bucket, exported by the state machine's own steps.

The steps run in-process in the state machine's order (Prepare → UploadChunk per chunk → PollStatus until
done → Report) with the services the Lambda handlers build, against moto S3/Secrets Manager and the
emulator; the ASL file itself is executed by moto only in ``tests/integration/export_aws``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adsbridge.demo.customers import generate
from adsbridge.demo.local_aws import LocalCloud
from adsbridge.demo.progress import Progress
from adsbridge.export.handlers.runtime import ads_clients
from adsbridge.export.report import ExportReport
from adsbridge.export.state import INCOMING, JobSpec, PollState, SourceObject
from adsbridge.export.steps import Services, poll_run, prepare_run, report_run, upload_chunk

INPUT_BUCKET = "adsbridge-demo-input"
STATE_BUCKET = "adsbridge-demo-state"
JOB = "demo"
SECRET = "adsbridge/demo"
CHUNK_BYTES = 1024 * 1024  # several chunks already at the default size, as a large file would have
BAD_SHARE = 0.02
SEED = 7
POLL_SECONDS = 0.25
SETTINGS: dict[str, Any] = {
    "type": "amazon_ads",
    "amc_instance_id": "amcdemo0001",
    "region": "NA",
    "action": "CREATE",
    "upload_mode": "APPEND",
    "target": "AMC",
    "external_audience_id": "adsbridge-demo",
    "audience_name": "adsbridge demo audience",
    "audience_description": "Generated customers from adsbridge demo",
    "time_to_live": 34300800,
    "country_code": "US",
    "wait_until_finish": True,
    "max_wait_time": 5,
}


@dataclass(frozen=True)
class ExportRun:
    report: ExportReport
    key: str  # the input object
    report_key: str  # the report document in the state bucket


@dataclass(frozen=True)
class AudiencesResult:
    created: ExportRun
    size_after_create: int
    deleted: ExportRun
    size_after_delete: int


def provision(cloud: LocalCloud) -> None:
    """The buckets ExportStack creates and the job's credentials secret (the emulator's sandbox account)."""
    s3 = cloud.client("s3")
    for bucket in (INPUT_BUCKET, STATE_BUCKET):
        s3.create_bucket(Bucket=bucket)
    c = cloud.emulator.credentials
    secret = {"client_id": c.client_id, "client_secret": c.client_secret, "refresh_token": c.refresh_token}
    cloud.client("secretsmanager").create_secret(Name=SECRET, SecretString=json.dumps(secret))


def run_audiences(cloud: LocalCloud, workdir: Path, rows: int, progress: Progress) -> AudiencesResult:
    """Create the audience from ``rows`` customers, then DELETE the first quarter of them again."""
    provision(cloud)
    services = Services(
        s3=cloud.client("s3"), state_bucket=STATE_BUCKET, ads=ads_clients(cloud.client("secretsmanager"))
    )
    customers = workdir / "customers.csv"
    progress.step(f"Generating {rows:,} customers (about {BAD_SHARE:.0%} broken rows) into {customers}")
    generate(customers, rows, SEED, bad_share=BAD_SHARE)
    created = _export(services, customers, f"{INCOMING}{JOB}/customers.csv", SETTINGS, progress)
    audience_id = created.report.audience_id
    if created.report.status != "SUCCEEDED" or audience_id is None:
        raise DemoFailure(f"the export ended {created.report.status}: {created.report.reason}")
    size_created = len(cloud.emulator.audience_members(audience_id))

    leaving = workdir / "customers-leaving.csv"
    generate(leaving, rows // 4, SEED, bad_share=BAD_SHARE)  # same seed: the first quarter of the same file
    delete = {**SETTINGS, "action": "UPDATE", "upload_mode": "DELETE", "audience_id": audience_id}
    deleted = _export(services, leaving, f"{INCOMING}{JOB}/customers-leaving.csv", delete, progress)
    if deleted.report.status != "SUCCEEDED":
        raise DemoFailure(f"the DELETE export ended {deleted.report.status}: {deleted.report.reason}")
    return AudiencesResult(created, size_created, deleted, len(cloud.emulator.audience_members(audience_id)))


class DemoFailure(RuntimeError):
    """A demo step ended in a state the demo cannot go on from; the message says which and why."""


def _export(services: Services, path: Path, key: str, settings: dict[str, Any], progress: Progress) -> ExportRun:
    services.s3.upload_file(str(path), INPUT_BUCKET, key)
    job = JobSpec(name=JOB, settings=settings, secret_name=SECRET, chunk_bytes=CHUNK_BYTES, accept_terms=True)
    source = SourceObject(bucket=INPUT_BUCKET, key=key)
    mode = f"{settings['action']}/{settings['upload_mode']}"
    progress.step(f"Export {mode} of s3://{INPUT_BUCKET}/{key}: Prepare")
    prepared = prepare_run(job, source, services)
    for done, chunk in enumerate(prepared.chunks, start=1):
        upload_chunk(job, source, prepared.run, chunk, 1, services)
        progress.bar("UploadChunk", done, len(prepared.chunks))
    progress.step("PollStatus until Amazon has processed every batch")
    poll = PollState()
    while prepared.run.wait and not (poll.done or poll.timed_out):
        poll = poll_run(job, prepared.run, poll, services)
        if not poll.done:
            time.sleep(POLL_SECONDS)
    report, _, report_key = report_run(
        job, source, f"demo-{int(time.time() * 1000)}", services, prepared=prepared, poll=poll
    )
    return ExportRun(report, key, report_key)
