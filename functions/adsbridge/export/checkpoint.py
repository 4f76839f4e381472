"""Run state in S3: the prepared target and each finished chunk's result, so a re-run resumes, not repeats.

A run is one input object version under one set of job settings: its id hashes bucket, key, ETag and the
settings, so re-running the same input with the same settings (after a crash, or a redrive) finds the audience
already prepared and skips every chunk already uploaded; within an unfinished chunk, every batch Amazon already
accepted. The same file with changed settings (UPDATE/DELETE, another audience or target) is a new run. Only offsets, counts, ids and job states are stored:
never row data.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

CHECKPOINT_PREFIX = "checkpoints"
# A conditional PUT that lost: the object exists or changed (412), or a concurrent conditional write to it is in flight (409)
_LOST_RACE = {"PreconditionFailed", "ConditionalRequestConflict"}


def run_id(bucket: str, key: str, etag: str, settings: dict[str, Any]) -> str:
    """The run's id. ``settings`` is ``ExportSettings.wire()``: the settings as given, canonical, so the id does
    not depend on how the settings reached the step, and settings written canonically hash as they did when
    the raw execution-input dict was hashed (a re-run of an older execution finds its checkpoints)."""
    canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{bucket}\0{key}\0{etag}\0{canonical}".encode()).hexdigest()[:24]


class RunStore:
    """JSON documents under ``checkpoints/<job>/<run id>/`` in the state bucket (an injected S3 client)."""

    def __init__(self, s3: Any, bucket: str, job: str, run: str) -> None:
        self._s3 = s3
        self.bucket = bucket
        self.prefix = f"{CHECKPOINT_PREFIX}/{job}/{run}/"

    def load(self, name: str) -> Any | None:
        try:
            body = self._s3.get_object(Bucket=self.bucket, Key=self.prefix + name)["Body"]
        except self._s3.exceptions.NoSuchKey:
            return None
        return json.loads(body.read())

    def save(self, name: str, document: Any) -> None:
        self._put(name, document)

    def create(self, name: str, document: Any) -> bool:
        """Write ``name`` only if it does not exist; False when another writer has it (or is writing it)."""
        return self._put_if(name, document, IfNoneMatch="*")

    def replace(self, name: str, document: Any, etag: str) -> bool:
        """Overwrite ``name`` only if it is still the version ``etag``; False when someone changed it first."""
        return self._put_if(name, document, IfMatch=etag)

    def load_versioned(self, name: str) -> tuple[Any, str] | None:
        """A document with its ETag, for ``replace``."""
        try:
            found = self._s3.get_object(Bucket=self.bucket, Key=self.prefix + name)
        except self._s3.exceptions.NoSuchKey:
            return None
        return json.loads(found["Body"].read()), str(found["ETag"])

    def _put_if(self, name: str, document: Any, **condition: str) -> bool:
        try:
            self._put(name, document, **condition)
        except self._s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _LOST_RACE:
                return False
            raise
        return True

    def _put(self, name: str, document: Any, **condition: str) -> None:
        self._s3.put_object(
            Bucket=self.bucket,
            Key=self.prefix + name,
            Body=json.dumps(document, separators=(",", ":")).encode(),
            ContentType="application/json",
            **condition,
        )

    def chunk(self, index: int) -> dict[str, Any] | None:
        return self._mapping(_chunk_name(index))

    def save_chunk(self, index: int, result: dict[str, Any]) -> None:
        self.save(_chunk_name(index), result)

    def progress(self, index: int) -> dict[str, Any] | None:
        """An unfinished chunk's ``offset`` and the counters of its rows before it (one small PUT a batch).

        Not under ``chunks/``: ``chunks()`` lists finished results only.
        """
        return self._mapping(_progress_name(index))

    def save_progress(self, index: int, progress: dict[str, Any]) -> None:
        self.save(_progress_name(index), progress)

    def _mapping(self, name: str) -> dict[str, Any] | None:
        found = self.load(name)
        return dict(found) if found is not None else None

    def chunks(self) -> list[dict[str, Any]]:
        """Every finished chunk's result, in chunk order."""
        found = []
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + "chunks/"):
            for item in page.get("Contents", []):
                body = self._s3.get_object(Bucket=self.bucket, Key=item["Key"])["Body"]
                found.append(json.loads(body.read()))
        return sorted(found, key=lambda result: int(result["index"]))


def _chunk_name(index: int) -> str:
    return f"chunks/{index:06d}.json"


def _progress_name(index: int) -> str:
    return f"progress/{index:06d}.json"
