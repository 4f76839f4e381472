"""Run state in the state directory: ``adsbridge export``'s checkpoints, the same documents the state machine keeps
in S3 (``checkpoint.RunStore``), so a re-run of the same input with the same settings resumes, not repeats.

One JSON file per document under ``<state dir>/checkpoints/<job>/<run id>/``. A document is written whole or not
at all: a temporary file in the same folder, fsynced, then ``os.replace`` (``save``) or ``os.link`` (``create``,
which fails when the name exists, so of two writers exactly one creates), so a run killed mid-write leaves the
previous version or none, never half a document. A document that cannot be read all the same (edited, a disk
fault) is ``RunStateDamaged``. Only offsets, counts, ids and job states are stored: never row data.
"""

from __future__ import annotations

import fcntl
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from adsbridge.export import json_files
from adsbridge.export.checkpoint import CHECKPOINT_PREFIX, CHUNKS, RunState, damaged
from adsbridge.export.registry import state_dir
from adsbridge.export.resume import StateOpener
from adsbridge.export.run_claim import RunInProgress

LOCAL_JOB = "adsbridge-export"  # the <job> part of a local run's folder: the CLI runs no named jobs


class LocalRunStore(RunState):
    """JSON files in one run's folder (made on the first write, mode 0700 like the state directory)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def default(cls, run: str, job: str = LOCAL_JOB) -> LocalRunStore:
        return cls(state_dir() / CHECKPOINT_PREFIX / job / run)

    @property
    def location(self) -> str:
        return str(self.folder)

    def load(self, name: str) -> Any | None:
        try:
            return self._read(self.folder / name)
        except FileNotFoundError:
            return None

    def save(self, name: str, document: Any) -> None:
        json_files.replace(self._path(name), _text(document))

    def create(self, name: str, document: Any) -> bool:
        return json_files.create(self._path(name), _text(document))

    def chunks(self) -> list[dict[str, Any]]:
        found = [self._read(path) for path in (self.folder / CHUNKS).glob("*.json")]
        try:
            return sorted(found, key=lambda result: int(result["index"]))
        except (KeyError, TypeError, ValueError):
            raise damaged(self.location, CHUNKS, "a result without its index") from None

    def _read(self, path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except ValueError:  # JSONDecodeError, UnicodeDecodeError: an empty, cut or edited document
            raise damaged(self.location, str(path.relative_to(self.folder)), "not JSON") from None

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


def _text(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"))


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
