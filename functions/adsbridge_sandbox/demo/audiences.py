"""Audiences out as deployed: a customer file dropped into the input bucket starts the export state machine.

In moto, as far as moto goes: the input bucket sends its events to EventBridge, where the job's rule (the
stack's own pattern) matches the drop. moto's rules cannot target Step Functions, so the rule's target is
a queue and the demo plays the last hop, starting the execution with the input the stack's target would
build (``adsbridge.export.trigger``). moto's Step Functions then runs the deployed ASL file, whose Lambda
tasks are our handlers run in this process, against moto S3/Secrets Manager and the emulator.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.export.definition import MachineSettings

from adsbridge.ads.secrets import store_credentials
from adsbridge.export.handlers import runtime
from adsbridge.export.handlers.environment import ExportEnvironment
from adsbridge.export.payloads import INCOMING, JobSpec
from adsbridge.export.report import ExportReport
from adsbridge.export.report import report_key as report_location
from adsbridge.export.trigger import execution_input, object_created_pattern
from adsbridge_sandbox.demo.customers import Generated, generate
from adsbridge_sandbox.demo.local_aws import LocalCloud
from adsbridge_sandbox.demo.progress import Progress
from adsbridge_sandbox.local_machine import create_machine, execute

INPUT_BUCKET = "adsbridge-demo-input"
STATE_BUCKET = "adsbridge-demo-state"
RULE_TAP = "adsbridge-demo-rule-target"  # stands in for the rule's Step Functions target, which moto lacks
MACHINE = "adsbridge-demo-export"
SECRET = "adsbridge/demo"
FUNCTION_LOG = "export-functions.log"
CHUNK_BYTES = 1024 * 1024  # several chunks already at the default size, as a large file would have
BAD_SHARE = 0.02
SEED = 7
EXECUTION_LIMIT_SECONDS = 240
# ExportStack's machine settings, with waits shortened to the emulator's pace
MACHINE_SETTINGS = MachineSettings(
    max_concurrency=2, poll_interval_seconds=1, query_poll_seconds=1, query_max_polls=3, ads_retry_seconds=1
)
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
    execution: str
    seconds: float


@dataclass(frozen=True)
class AudiencesResult:
    customers: Generated  # the generator's truth about each file
    leaving: Generated
    created: ExportRun
    size_after_create: int
    deleted: ExportRun
    size_after_delete: int


class DemoFailure(RuntimeError):
    """A demo step ended in a state the demo cannot go on from; the message says which and why."""


class ChunkProgress:
    """Watches the state machine's tasks: says what Prepare planned and draws the UploadChunk bar."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self._lock = threading.Lock()  # Map runs chunks in parallel threads
        self._chunks = self._done = 0

    def __call__(self, task: str, result: Any) -> None:
        with self._lock:
            if task == "Prepare":
                self._chunks, self._done = len(result["chunks"]), 0
                self.progress.step(
                    f"Prepare: audience ready, {self._chunks} chunks to upload "
                    f"(Map, {MACHINE_SETTINGS.max_concurrency} at a time)"
                )
            elif task == "UploadChunk":
                self._done += 1
                self.progress.bar("UploadChunk", self._done, self._chunks)
            elif task == "PollStatus" and result.get("done"):
                self.progress.step("PollStatus: Amazon has processed every batch")


@dataclass(frozen=True)
class Deployment:
    """What ExportStack would have deployed, in moto."""

    cloud: LocalCloud
    machine_arn: str
    tap_url: str

    def add_job(self, job: JobSpec, prefix: str) -> None:
        """The job's rule on the default bus: the stack's pattern for drops under ``incoming/<prefix>``."""
        pattern = object_created_pattern(INPUT_BUCKET, prefix)
        events = self.cloud.client("events")
        events.put_rule(Name=f"job-{job.name}", EventPattern=json.dumps(pattern))
        tap_arn = self.cloud.client("sqs").get_queue_attributes(QueueUrl=self.tap_url, AttributeNames=["QueueArn"])
        events.put_targets(Rule=f"job-{job.name}", Targets=[{"Id": "tap", "Arn": tap_arn["Attributes"]["QueueArn"]}])


def deploy(cloud: LocalCloud) -> Deployment:
    """The buckets (input bucket sending events to EventBridge), the job secret, the state machine, a rule tap."""
    s3 = cloud.client("s3")
    for bucket in (INPUT_BUCKET, STATE_BUCKET):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=INPUT_BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    store_credentials(cloud.client("secretsmanager"), SECRET, cloud.emulator.credentials.lwa())
    # the functions' environment; local_cloud restores it
    os.environ.update(ExportEnvironment.variables(state_bucket=STATE_BUCKET))
    runtime.services.cache_clear()  # built on first use from that environment, against moto's endpoint
    machine = create_machine(cloud.client, MACHINE, MACHINE_SETTINGS)
    tap = cloud.client("sqs").create_queue(QueueName=RULE_TAP)["QueueUrl"]
    return Deployment(cloud, machine, tap)


def run_audiences(cloud: LocalCloud, workdir: Path, rows: int, progress: Progress) -> AudiencesResult:
    """Create the audience from ``rows`` customers, then DELETE the first quarter of them with a second job."""
    customers = workdir / "customers.csv"
    progress.step(f"Generating {rows:,} customers (about {BAD_SHARE:.0%} broken rows) into {customers}")
    truth = generate(customers, rows, SEED, bad_share=BAD_SHARE)
    create = JobSpec(name="demo", settings=SETTINGS, secret_name=SECRET, chunk_bytes=CHUNK_BYTES, accept_terms=True)
    with _function_output(workdir / FUNCTION_LOG), cloud.observing(ChunkProgress(progress)):
        progress.step("Deploying the export in moto: buckets, job secret, the ASL state machine, the job's rule")
        deployment = deploy(cloud)
        created = _drop_and_export(deployment, create, customers, progress)
        audience_id = str(created.report.audience_id)
        size_created = len(cloud.emulator.audience_members(int(audience_id)))

        leaving = workdir / "customers-leaving.csv"
        leaving_truth = generate(leaving, rows // 4, SEED, bad_share=BAD_SHARE)  # same seed: the first quarter
        delete_settings = {**SETTINGS, "action": "UPDATE", "upload_mode": "DELETE", "audience_id": audience_id}
        delete = JobSpec.model_validate({**dict(create), "name": "demo-leaving", "settings": delete_settings})
        deleted = _drop_and_export(deployment, delete, leaving, progress)
    size_deleted = len(cloud.emulator.audience_members(int(audience_id)))
    return AudiencesResult(truth, leaving_truth, created, size_created, deleted, size_deleted)


@contextmanager
def _function_output(path: Path) -> Iterator[None]:
    """Lambda's stdout is CloudWatch Logs: the functions' JSON log lines and EMF metrics go to a file instead."""
    handler = runtime.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    with path.open("w") as lines, redirect_stdout(lines):
        previous = handler.setStream(lines)
        try:
            yield
        finally:
            handler.setStream(previous)


def _drop_and_export(deployment: Deployment, job: JobSpec, path: Path, progress: Progress) -> ExportRun:
    deployment.add_job(job, f"{job.name}/")
    key = f"{INCOMING}{job.name}/{path.name}"
    settings = job.valid_settings  # None: a test starts the job with bad settings, to see its failure report
    mode = f"{settings.action}/{settings.upload_mode}" if settings else "settings that do not validate"
    progress.step(f"Job {job.name} ({mode}): dropping {path.name} as s3://{INPUT_BUCKET}/{key}")
    cloud = deployment.cloud
    cloud.client("s3").upload_file(str(path), INPUT_BUCKET, key)
    event = _matched_event(deployment)
    name = f"{job.name}-{uuid.uuid4().hex[:12]}"
    progress.step(f"The job's rule matched the drop; execution {name} of the state machine")
    execution = execute(
        cloud.client("stepfunctions"),
        deployment.machine_arn,
        name,
        execution_input(job, event),
        limit_seconds=EXECUTION_LIMIT_SECONDS,
    )
    report_key = report_location(job.name, name)
    document = json.loads(cloud.client("s3").get_object(Bucket=STATE_BUCKET, Key=report_key)["Body"].read())
    report = ExportReport.from_json(document)
    progress.step(f"Execution {execution.status} in {execution.seconds:.1f}s; report s3://{STATE_BUCKET}/{report_key}")
    if execution.status != "SUCCEEDED" or report.status != "SUCCEEDED":
        raise DemoFailure(f"job {job.name} ended {execution.status}/{report.status}: {report.reason}")
    return ExportRun(report, key, report_key, name, execution.seconds)


def _matched_event(deployment: Deployment) -> dict[str, Any]:
    """The S3 event the job's rule delivered to its target; none means the drop did not match the rule."""
    sqs = deployment.cloud.client("sqs")
    got = sqs.receive_message(QueueUrl=deployment.tap_url, MaxNumberOfMessages=1, WaitTimeSeconds=2)
    messages = got.get("Messages", [])
    if not messages:
        raise DemoFailure("the dropped file did not match the job's EventBridge rule")
    sqs.delete_message(QueueUrl=deployment.tap_url, ReceiptHandle=messages[0]["ReceiptHandle"])
    event: dict[str, Any] = json.loads(messages[0]["Body"])
    return event
