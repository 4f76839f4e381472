"""Which audience a CREATE job made, so that the job's later runs append to it instead of failing.

Treasure Data's CREATE job "can be scheduled to run repeatedly" to keep feeding its audience, but Amazon refuses a
second ``POST /amc/audiences/metadata`` with the same ``externalAudienceId``, and returns the audience id only to
the request that created it. So the first run records ``external id -> audience id`` and later runs reuse it.

A record is keyed by everything that names an audience's owner: region, AMC instance, AMC account, the DSP
advertiser (when the job targets DSP) and the external id. The first writer wins: two first runs racing each other
both end up using the audience recorded first. Two adapters of one small interface (``AudienceRegistry``): the
export state bucket for the state machine, a local file in the user's state directory for ``adsbridge export``.
Only ids are stored, never row data.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from adsbridge.export import json_files
from adsbridge.settings import ExportSettings

STATE_DIR_ENV = "ADSBRIDGE_STATE_DIR"
LOCAL_FILE = "audiences.json"
# Its own prefix of the state bucket: checkpoints and reports expire after state_retention_days, but a record
# must outlive a job that runs less often than that (ExportStack expires only those two prefixes).
REGISTRY_PREFIX = "audiences"
S3_PREFIX = f"{REGISTRY_PREFIX}/"
_LOST_RACE = {"PreconditionFailed", "ConditionalRequestConflict"}  # as checkpoint.RunStore's conditional PUTs
_ATTEMPTS = 5


class RegistryError(ValueError):
    """The registry cannot be read (a damaged file or object); the message names it and how to reset it."""


@dataclass(frozen=True)
class AudienceKey:
    """The owner and external id of one CREATE job's audience."""

    region: str
    amc_instance_id: str
    amc_account_id: str | None
    dsp_advertiser_id: str | None
    external_audience_id: str

    @classmethod
    def of(cls, settings: ExportSettings) -> AudienceKey:
        assert settings.external_audience_id is not None  # CREATE requires it (settings model)
        return cls(
            region=settings.region.value,
            amc_instance_id=settings.amc_instance_id,
            amc_account_id=settings.amc_account_id,
            dsp_advertiser_id=settings.dsp_advertiser_id if settings.target == "AMC_AND_DSP" else None,
            external_audience_id=settings.external_audience_id,
        )

    def path(self) -> str:
        """``region/instance/account/advertiser/external id``, each part percent-encoded: readable, and unique."""
        parts = (self.region, self.amc_instance_id, self.amc_account_id or "-", self.dsp_advertiser_id or "-")
        return "/".join(quote(part, safe="") for part in (*parts, self.external_audience_id))


class AudienceRegistry(Protocol):
    """Where CREATE jobs record their audiences."""

    def find(self, key: AudienceKey) -> int | None:
        """The audience recorded for ``key``, if any."""

    def record(self, key: AudienceKey, audience_id: int) -> int:
        """Record ``audience_id`` unless another is recorded already; returns the one on record.

        Recording the id already on record again is allowed (the S3 adapter refreshes the object's age with it).
        """

    def location(self, key: AudienceKey) -> str:
        """Where ``key``'s record lives: errors and the README name it as what to delete to reset."""


def _document(key: AudienceKey, audience_id: int) -> dict[str, Any]:
    # the id as a string: 18-digit ids are not safe as JSON numbers in every reader
    return {**asdict(key), "audience_id": str(audience_id), "recorded_at": datetime.now(UTC).isoformat()}


def _audience_id(document: Any, where: str) -> int:
    value = document.get("audience_id") if isinstance(document, Mapping) else None
    if not (isinstance(value, str) and value.isascii() and value.isdigit()):
        raise RegistryError(f"audience registry {where} is damaged (no audience id): delete it to reset")
    return int(value)


class S3Registry:
    """One object per audience under ``S3_PREFIX`` in the export state bucket, written with conditional PUTs.

    The state bucket's lifecycle rule expires objects ``state_retention_days`` after they were last written, so
    each reuse writes the record again (``record`` of the recorded id): a job that runs within that period keeps it.
    """

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self.bucket = bucket

    def location(self, key: AudienceKey) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def find(self, key: AudienceKey) -> int | None:
        found = self._load(key)
        return None if found is None else found[0]

    def record(self, key: AudienceKey, audience_id: int) -> int:
        body = _document(key, audience_id)
        for _ in range(_ATTEMPTS):
            if self._put(key, body, IfNoneMatch="*"):
                return audience_id
            found = self._load(key)
            if found is None:
                continue  # deleted, or still being written (409), when we read it: try again
            recorded, etag = found
            if recorded != audience_id or self._put(key, body, IfMatch=etag):
                return recorded
        raise RegistryError(f"audience registry {self.location(key)} keeps changing: another run is writing it")

    def _key(self, key: AudienceKey) -> str:
        return f"{S3_PREFIX}{key.path()}.json"

    def _load(self, key: AudienceKey) -> tuple[int, str] | None:
        try:
            found = self._s3.get_object(Bucket=self.bucket, Key=self._key(key))
        except self._s3.exceptions.NoSuchKey:
            return None
        try:
            document = json.loads(found["Body"].read())
        except ValueError:
            document = None
        return _audience_id(document, self.location(key)), str(found["ETag"])

    def _put(self, key: AudienceKey, document: dict[str, Any], **condition: str) -> bool:
        try:
            self._s3.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=json.dumps(document).encode(),
                ContentType="application/json", **condition,
            )  # fmt: skip
        except self._s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _LOST_RACE:
                return False
            raise
        return True


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$ADSBRIDGE_STATE_DIR``, else ``$XDG_STATE_HOME/adsbridge``, else ``~/.local/state/adsbridge``.

    The XDG Base Directory specification ignores a relative ``XDG_STATE_HOME``; so does this.
    """
    env = os.environ if environ is None else environ
    if env.get(STATE_DIR_ENV):
        return Path(env[STATE_DIR_ENV]).expanduser()
    xdg = env.get("XDG_STATE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "adsbridge"
    return Path.home() / ".local" / "state" / "adsbridge"


_ELSEWHERE = f"set {STATE_DIR_ENV} to a writable directory"


class LocalRegistry:
    """One JSON file (``audiences.json`` in the state directory) for ``adsbridge export``.

    Read-modify-write under an exclusive lock on a sidecar file, and replaced atomically (a temporary file, then
    a rename), so two runs at once cannot both record and a crash never leaves half a file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def default(cls) -> LocalRegistry:
        return cls(state_dir() / LOCAL_FILE)

    def location(self, key: AudienceKey) -> str:
        return f"{self.path} (entry {key.path()!r})"

    def check_writable(self) -> None:
        """Make the state directory, or refuse: a CREATE job must not create an audience it cannot record."""
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise RegistryError(f"state directory {folder} cannot be made ({exc.strerror}): {_ELSEWHERE}") from None
        if not os.access(folder, os.W_OK | os.X_OK):
            raise RegistryError(f"state directory {folder} is not writable: {_ELSEWHERE}")

    def find(self, key: AudienceKey) -> int | None:
        entry = self._read().get(key.path())
        return None if entry is None else _audience_id(entry, self.location(key))

    def record(self, key: AudienceKey, audience_id: int) -> int:
        with self._locked():
            entries = self._read()
            if key.path() in entries:
                return _audience_id(entries[key.path()], self.location(key))
            entries[key.path()] = _document(key, audience_id)
            self._write(entries)
        return audience_id

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if not (isinstance(document, dict) and isinstance(document.get("audiences"), dict)):
            raise RegistryError(f"audience registry {self.path} is damaged: delete it to reset")
        return dict(document["audiences"])

    def _write(self, entries: dict[str, Any]) -> None:
        json_files.replace(self.path, json.dumps({"version": 1, "audiences": entries}, indent=2) + "\n")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
