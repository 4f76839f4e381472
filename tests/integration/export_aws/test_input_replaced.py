"""A run reads only the input version it planned: an object replaced under its key (a new file dropped with the
same name) after Prepare took its ETag fails the run's next read with ``InputReplaced``, not retried, and sends
nothing of the new version under the old run; the new version is its own run. Moto answers a ranged GET whose
``IfMatch`` no longer holds with 412 PreconditionFailed, as S3 does."""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from tests.integration.export_aws.conftest import INPUT_BUCKET, SECRET, ExportMachine
from tests.integration.export_aws.test_state_machine import SAMPLE, StormAfter, settings

from adsbridge.export import steps
from adsbridge.export.checkpoint import PREPARED
from adsbridge.export.chunks import Chunk
from adsbridge.export.handlers import runtime
from adsbridge.export.payloads import JobSpec, SourceObject
from adsbridge.export.source import InputReplaced

KEY = "incoming/crm/customers.csv"
NEW_IDS = [f"new-{i:04d}" for i in range(40)]
NEW_VERSION = ("externalUserId,email,countrycode\n" + "".join(f"{i},{i}@example.net,US\n" for i in NEW_IDS)).encode()


def replaced_reason(machine: ExportMachine, key: str, etag: str) -> str:
    return (
        f"InputReplaced: input: s3://{INPUT_BUCKET}/{key} was replaced after the run started (ETag {etag}): "
        "the new version is a new run"
    )


def etag(machine: ExportMachine, key: str) -> str:
    return str(machine.s3.head_object(Bucket=INPUT_BUCKET, Key=key)["ETag"])


def replace(machine: ExportMachine, key: str = KEY, body: bytes = NEW_VERSION) -> None:
    machine.put_input(key, body)


@pytest.mark.parametrize("machine_config", [{"max_concurrency": 1}])
def test_an_input_replaced_before_its_first_chunk_fails_the_run_unretried_and_the_new_version_is_its_own_run(
    export_machine: ExportMachine,
) -> None:
    export_machine.put_input(KEY, SAMPLE)
    planned = etag(export_machine, KEY)
    export_machine.invocations.before.append(("UploadChunk", 1, lambda: replace(export_machine)))
    status, first = export_machine.run(KEY, settings(), chunk_bytes=700)
    assert (status, first["status"]) == ("FAILED", "FAILED")
    assert first["reason"] == replaced_reason(export_machine, KEY, planned)
    assert export_machine.invocations.count("UploadChunk") == 1  # not retried: a retry reads the same new version
    assert export_machine.records_posts() == 0 and first["total_records"] == 0  # nothing of the new version sent
    assert first["audience_id"] is not None  # prepared on the old version: the report says which audience

    status, second = export_machine.run(KEY, settings(), chunk_bytes=700)  # what the new version's S3 event starts
    assert (status, second["status"]) == ("SUCCEEDED", "SUCCEEDED"), second["reason"]
    assert second["run_id"] != first["run_id"]
    assert second["total_records"] == second["uploaded_records"] == len(NEW_IDS)
    assert export_machine.emulator.audience_members(second["audience_id"]) == frozenset(NEW_IDS)


@pytest.mark.parametrize("machine_config", [{"max_concurrency": 1}])
def test_an_input_replaced_between_chunks_keeps_the_chunks_sent_and_sends_none_of_the_new_version(
    export_machine: ExportMachine,
) -> None:
    export_machine.put_input(KEY, SAMPLE)
    export_machine.emulator.state.pending_seconds = 0  # jobs settle at once: the ledger shows what was sent
    planned = etag(export_machine, KEY)
    export_machine.invocations.before.append(("UploadChunk", 2, lambda: replace(export_machine)))
    status, report = export_machine.run(KEY, settings(), chunk_bytes=700)
    assert (status, report["status"]) == ("FAILED", "FAILED")
    assert report["reason"] == replaced_reason(export_machine, KEY, planned)
    assert report["chunks_planned"] >= 3 and [chunk["index"] for chunk in report["chunks"]] == [0]
    assert export_machine.invocations.count("UploadChunk") == 2
    assert export_machine.records_posts() == report["total_batches"] == report["chunks"][0]["total_batches"] >= 1
    members = export_machine.emulator.audience_members(report["audience_id"])
    assert members and all(member.startswith("cust-") for member in members)  # the old version's rows only


def test_a_chunk_retried_after_the_input_was_replaced_does_not_resume_in_the_new_version(
    export_machine: ExportMachine,
) -> None:
    """The chunk re-opened at its checkpoint's offset by Step Functions' retry is pinned too."""
    rows = 14_500  # one chunk, three batches; the first accepted, then a 503 storm ends the invocation
    body = "externalUserId,email\n" + "".join(f"u{i},user{i}@example.com\n" for i in range(rows))
    export_machine.put_input("incoming/crm/big.csv", body.encode())
    planned = etag(export_machine, "incoming/crm/big.csv")
    services = runtime.services()
    services.ads = StormAfter(services.ads, export_machine.emulator, batches=1)
    export_machine.invocations.before.append(
        ("UploadChunk", 2, lambda: replace(export_machine, "incoming/crm/big.csv", body.upper().encode()))
    )
    status, report = export_machine.run("incoming/crm/big.csv", settings())
    assert (status, report["status"]) == ("FAILED", "FAILED")
    assert report["reason"] == replaced_reason(export_machine, "incoming/crm/big.csv", planned)
    assert export_machine.invocations.count("UploadChunk") == 2  # the AdsRetryable retry, then no more
    posts = [r.status for r in export_machine.emulator.request_log() if r.path == "/amc/audiences/records"]
    assert posts == [202, 503, 503]  # the retry sent nothing of the new version
    assert report["uploaded_records"] == 6_000  # the batch accepted before the replacement still counts


class ReplacedAfterHead:
    """An S3 client whose object is replaced just after Prepare's HEAD took its ETag, before planning reads it."""

    def __init__(self, s3: Any, machine: ExportMachine, key: str) -> None:
        self._s3, self._machine, self._key = s3, machine, key

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)

    def head_object(self, **arguments: Any) -> Any:
        head = self._s3.head_object(**arguments)
        if arguments["Key"] == self._key:
            replace(self._machine, self._key)
        return head


def test_an_input_replaced_while_prepare_plans_it_fails_before_any_audience(export_machine: ExportMachine) -> None:
    export_machine.put_input(KEY, SAMPLE)
    planned = etag(export_machine, KEY)
    services = runtime.services()
    services.s3 = ReplacedAfterHead(services.s3, export_machine, KEY)
    status, report = export_machine.run(KEY, settings())
    assert (status, report["status"]) == ("FAILED", "FAILED")
    assert report["reason"] == replaced_reason(export_machine, KEY, planned)
    assert report["audience_id"] is None and export_machine.invocations.count("Prepare") == 1  # not retried
    assert not [r for r in export_machine.emulator.request_log() if r.path.startswith("/amc")]


@pytest.mark.parametrize("compressed", [False, True], ids=["csv-resumed", "gzip"])
def test_upload_chunk_reads_only_the_version_its_run_planned(export_machine: ExportMachine, compressed: bool) -> None:
    """The steps themselves, a chunk resumed part-way included: the run's ETag travels in ``RunInfo``."""
    key = "incoming/crm/c.csv.gz" if compressed else KEY
    export_machine.put_input(key, gzip.compress(SAMPLE) if compressed else SAMPLE)
    services = runtime.services()
    job = JobSpec.model_validate({"name": "crm", "settings": settings(), "secret_name": SECRET, "chunk_bytes": 700})
    source = SourceObject(bucket=INPUT_BUCKET, key=key)
    prepared = steps.prepare_run(job, source, "exec-1", services)
    assert prepared.run.etag == etag(export_machine, key)
    chunk: Chunk = prepared.chunks[0]
    store = steps._store(services, job, prepared.run.run_id)
    store.save_progress(chunk.index, {"index": chunk.index, "offset": 1, "total_records": 0, "uploaded_records": 0,
                                      "total_batches": 0, "job_request_ids": [], "batch_sizes": [],
                                      "skipped_by_reason": {}})  # fmt: skip
    replace(export_machine, key, gzip.compress(NEW_VERSION) if compressed else NEW_VERSION)
    with pytest.raises(InputReplaced, match="was replaced after the run started"):
        steps.upload_chunk(job, source, prepared.run, chunk, 1, services)
    assert export_machine.records_posts() == 0
    assert store.chunk(chunk.index) is None


def test_a_run_prepared_without_an_etag_reads_as_before(export_machine: ExportMachine) -> None:
    """An execution already running when this shipped carries a ``RunInfo`` without ``etag``: read unpinned."""
    export_machine.put_input(KEY, SAMPLE)
    services = runtime.services()
    job = JobSpec.model_validate(
        {"name": "crm", "settings": settings(wait_until_finish=False, max_wait_time=None), "secret_name": SECRET}
    )
    source = SourceObject(bucket=INPUT_BUCKET, key=KEY)
    prepared = steps.prepare_run(job, source, "exec-1", services)
    legacy = prepared.run.model_validate(prepared.run.model_dump(mode="json", exclude={"etag"}))
    assert legacy.etag is None
    replace(export_machine, body=SAMPLE.replace(b"cust-0001", b"cust-9001"))  # same offsets, another ETag
    summary = steps.upload_chunk(job, source, legacy, prepared.chunks[0], 1, services)
    assert summary["uploaded_records"] == 18 and export_machine.records_posts() == 1  # as the sample uploads


def test_a_run_prepared_without_an_etag_gets_it_when_prepared_again(export_machine: ExportMachine) -> None:
    """A run whose prepared.json predates RunInfo.etag, prepared again (a redrive, a re-drop), reads pinned from
    then on: its name is that same version, so the HEAD's ETag is the run's."""
    export_machine.put_input(KEY, SAMPLE)
    services = runtime.services()
    job = JobSpec.model_validate({"name": "crm", "settings": settings(), "secret_name": SECRET})
    source = SourceObject(bucket=INPUT_BUCKET, key=KEY)
    prepared = steps.prepare_run(job, source, "exec-1", services)
    store = steps._store(services, job, prepared.run.run_id)
    store.save(PREPARED, prepared.model_dump(mode="json", exclude={"run": {"etag"}}))
    again = steps.prepare_run(job, source, "exec-1", services)
    assert again.run.etag == etag(export_machine, KEY) and again.run.run_id == prepared.run.run_id
