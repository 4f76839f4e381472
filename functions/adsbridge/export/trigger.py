"""How a job starts: the EventBridge pattern an S3 drop must match and the execution input it starts with.

ExportStack builds its rules and schedules from these, and the demo applies them to the event moto's S3
emits, so both start the state machine with the same input.
"""

from __future__ import annotations

from typing import Any

from adsbridge.export.payloads import INCOMING, JobSpec

# Where the rule's input transformer takes the dropped object from (EventBridge JSONPath into the S3 event).
SOURCE_PATHS = {"bucket": "$.detail.bucket.name", "key": "$.detail.object.key"}


def object_created_pattern(bucket: str, prefix: str) -> dict[str, Any]:
    """S3's EventBridge "Object Created" events for objects under ``incoming/<prefix>`` in ``bucket``."""
    return {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [bucket]}, "object": {"key": [{"prefix": INCOMING + prefix}]}},
    }


def job_input(job: JobSpec) -> dict[str, Any]:
    """The ``job`` part of an execution's input: what ``JobSpec`` parses on the other side."""
    return job.model_dump(mode="json")


def execution_input(job: JobSpec, event: dict[str, Any]) -> dict[str, Any]:
    """What the rule's target starts the state machine with for one S3 event."""
    return {"job": job_input(job), "source": {name: _path(event, path) for name, path in SOURCE_PATHS.items()}}


def _path(event: dict[str, Any], path: str) -> Any:
    value: Any = event
    for key in path.removeprefix("$.").split("."):
        value = value[key]
    return value
