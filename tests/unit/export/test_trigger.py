"""The S3 drop → execution input contract the stack's rule and the demo share."""

from __future__ import annotations

from adsbridge.export.payloads import JobSpec, SourceObject
from adsbridge.export.trigger import SOURCE_PATHS, execution_input, object_created_pattern

JOB = JobSpec(name="crm", settings={"action": "CREATE"}, secret_name="adsbridge/acct", accept_terms=True)
EVENT = {  # the fields S3's EventBridge "Object Created" event carries, trimmed
    "source": "aws.s3",
    "detail-type": "Object Created",
    "detail": {"bucket": {"name": "input-bucket"}, "object": {"key": "incoming/crm/2026-11-23.csv", "size": 10}},
}


def test_execution_input_carries_the_job_and_the_dropped_object() -> None:
    started = execution_input(JOB, EVENT)
    assert started["source"] == {"bucket": "input-bucket", "key": "incoming/crm/2026-11-23.csv"}
    assert JobSpec.model_validate(started["job"]) == JOB  # what the Prepare step parses back


def test_pattern_is_object_created_under_the_jobs_incoming_prefix() -> None:
    pattern = object_created_pattern("input-bucket", "crm/")
    assert pattern["source"] == [EVENT["source"]] and pattern["detail-type"] == [EVENT["detail-type"]]
    assert pattern["detail"] == {"bucket": {"name": ["input-bucket"]}, "object": {"key": [{"prefix": "incoming/crm/"}]}}
    assert set(SOURCE_PATHS) == set(SourceObject.model_fields)  # the rule fills exactly what Prepare reads
