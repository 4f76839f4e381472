"""Run state in the state directory: ``adsbridge export``'s checkpoints, the same documents the state machine keeps
in S3 (``checkpoint.RunStore``), so a re-run of the same input with the same settings resumes, not repeats.

One JSON file per document under ``<state dir>/checkpoints/<job>/<run id>/``. A document is written whole or not
at all (a temporary file in the same folder, then ``os.replace``), so a run killed mid-write leaves the previous
version; ``create`` opens with ``O_EXCL``, so of two writers exactly one creates. Only offsets, counts, ids and
job states are stored: never row data.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from adsbridge.export.checkpoint import CHECKPOINT_PREFIX, CHUNKS, ChunkDocuments, RunState
from adsbridge.export.registry import state_dir
from adsbridge.export.resume import StateOpener
from adsbridge.export.run_claim import RunInProgress

LOCAL_JOB = "adsbridge-export"  # the <job> part of a local run's folder: the CLI runs no named jobs


class LocalRunStore(ChunkDocuments):
    """JSON files in one run's folder (made on the first write, mode 0700 like the state directory)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def default(cls, run: str, job: str = LOCAL_JOB) -> LocalRunStore:
        return cls(state_dir() / CHECKPOINT_PREFIX / job / run)

    def load(self, name: str) -> Any | None:
        try:
            text = (self.folder / name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return json.loads(text)

    def save(self, name: str, document: Any) -> None:
        path = self._path(name)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                _write(out, document)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def create(self, name: str, document: Any) -> bool:
        path = self._path(name)
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                _write(out, document)
        except BaseException:  # half a document must not stand: the next run would read it as created
            path.unlink(missing_ok=True)
            raise
        return True

    def chunks(self) -> list[dict[str, Any]]:
        found = [json.loads(path.read_text(encoding="utf-8")) for path in (self.folder / CHUNKS).glob("*.json")]
        return sorted(found, key=lambda result: int(result["index"]))

    def forget(self) -> bool:
        """Delete the run's folder (``adsbridge export --restart``); whether there was one."""
        if not self.folder.exists():
            return False
        shutil.rmtree(self.folder)
        return True

    def _path(self, name: str) -> Path:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path


def _write(out: Any, document: Any) -> None:
    json.dump(document, out, separators=(",", ":"))
    out.flush()
    os.fsync(out.fileno())


def local_state(*, restart: bool = False) -> StateOpener:
    """``adsbridge export``'s run stores by run id, each held by one process while it is open (``RunInProgress``
    for a second); ``restart`` forgets the run's saved state once it is held (``--restart``)."""

    @contextmanager
    def held(run: str) -> Iterator[RunState]:
        store = LocalRunStore.default(run)
        store.folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # beside the run's folder, not in it: --restart deletes the folder while holding the lock
        with open(store.folder.with_name(f"{run}.lock"), "a") as lock:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RunInProgress(f"run {run} is already being exported by another adsbridge export") from None
            if restart:
                store.forget()
            yield store

    return held
