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
from abc import ABC, abstractmethod
from typing import Any

CHECKPOINT_PREFIX = "checkpoints"
PREPARED = "prepared.json"
CHUNKS = "chunks/"
# A conditional PUT that lost: the object exists or changed (412), or a concurrent conditional write to it is in flight (409)
_LOST_RACE = {"PreconditionFailed", "ConditionalRequestConflict"}


def run_id(bucket: str, key: str, etag: str, settings: dict[str, Any]) -> str:
    """The run's id. ``settings`` is ``ExportSettings.wire()``: the settings as given, canonical, so the id does
    not depend on how the settings reached the step, and settings written canonically hash as they did when
    the raw execution-input dict was hashed (a re-run of an older execution finds its checkpoints)."""
    canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{bucket}\0{key}\0{etag}\0{canonical}".encode()).hexdigest()[:24]


class RunStateDamaged(Exception):
    """A saved state document of a run cannot be read (not JSON, not the document it should be): resuming from
    it could send rows twice or leave some out, so the run stops, naming where the state is; ``adsbridge export
    --restart`` forgets it."""


def damaged(location: str, name: str, why: str) -> RunStateDamaged:
    """The error for the document ``name`` of the run kept at ``location`` (no row data is ever in it)."""
    return RunStateDamaged(
        f"the saved state in {location} cannot be read ({name}: {why}); "
        "adsbridge export --restart forgets it and sends every row again"
    )


def chunk_name(index: int) -> str:
    return f"{CHUNKS}{index:06d}.json"


def progress_name(index: int) -> str:
    """Not under ``chunks/``: ``chunks()`` lists finished results only."""
    return f"progress/{index:06d}.json"


class RunState(ABC):
    """Where a run keeps its state: ``RunStore`` (S3, the state machine) or ``checkpoint_files.LocalRunStore``
    (the state directory, ``adsbridge export``). Both hold the same documents under the same names, named here:
    ``prepared.json``, ``progress/NNNNNN.json`` after each batch Amazon accepted, ``chunks/NNNNNN.json``."""

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the run's documents are (a folder, an S3 prefix), for messages."""

    @abstractmethod
    def load(self, name: str) -> Any | None:
        """The document ``name``, or None when there is none."""

    @abstractmethod
    def save(self, name: str, document: Any) -> None:
        """Write ``name``, replacing what was there (whole or not at all)."""

    @abstractmethod
    def create(self, name: str, document: Any) -> bool:
        """Write ``name`` only if it does not exist; False when another writer has it."""

    @abstractmethod
    def chunks(self) -> list[dict[str, Any]]:
        """Every finished chunk's result, in chunk order."""

    def chunk(self, index: int) -> dict[str, Any] | None:
        return self._mapping(chunk_name(index))

    def save_chunk(self, index: int, result: dict[str, Any]) -> None:
        self.save(chunk_name(index), result)

    def progress(self, index: int) -> dict[str, Any] | None:
        """An unfinished chunk's ``offset`` and the counters of its rows before it (one small write a batch)."""
        return self._mapping(progress_name(index))

    def save_progress(self, index: int, progress: dict[str, Any]) -> None:
        self.save(progress_name(index), progress)

    def _mapping(self, name: str) -> dict[str, Any] | None:
        found = self.load(name)
        return dict(found) if found is not None else None


class RunStore(RunState):
    """JSON documents under ``checkpoints/<job>/<run id>/`` in the state bucket (an injected S3 client)."""

    def __init__(self, s3: Any, bucket: str, job: str, run: str) -> None:
        self._s3 = s3
        self.bucket = bucket
        self.prefix = f"{CHECKPOINT_PREFIX}/{job}/{run}/"

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

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

    def chunks(self) -> list[dict[str, Any]]:
        """Every finished chunk's result, in chunk order."""
        found = []
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + CHUNKS):
            for item in page.get("Contents", []):
                body = self._s3.get_object(Bucket=self.bucket, Key=item["Key"])["Body"]
                found.append(json.loads(body.read()))
        return sorted(found, key=lambda result: int(result["index"]))
