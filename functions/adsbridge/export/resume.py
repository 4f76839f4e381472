"""How ``adsbridge export`` resumes: the run an input and its settings make, and that run's saved state.

A run is one version of one input under one set of settings, as in the state machine (``checkpoint.run_id``): a
local file is its resolved path, modification time (ns) and the SHA-256 of its bytes (a file written again is a
new run, so a scheduled re-export refreshes its members' time to live; the digest tells apart a file rewritten
within one clock tick at the same length, which time and size would take for the run already sent); an S3
object its bucket, key and ETag. The version is taken first and the input then opened pinned to it
(``source.open_input``: a GET with ``IfMatch``, the open file's inode, time and size), so a run never reads the rows
of another version than the one it is recorded as; a file written while it is hashed has no version. Its
state is the state machine's documents, in a ``checkpoint.RunState`` (the state directory: ``checkpoint_files``),
with the whole input as chunk 0: ``prepared.json`` once the audience is ready, ``progress/000000.json`` after each
batch Amazon accepted, ``chunks/000000.json`` once every row was sent. A run started again resumes after the last
accepted batch with its counters and audience; a finished one sends nothing, says so and reports again. A batch accepted
but not yet saved (the process killed between Amazon's answer and the write, or a second signal abandoning the
request in flight) is sent again: at most one batch, as ``steps.upload_chunk`` documents. One process at a time
holds a run while it sends (``checkpoint_files.local_state``), as one execution claims it in the state machine.

Resuming re-reads the input from its start and drops the data before the saved offset (a gzip file has no random
access; an S3 object is read again up to there): reading, not sending, is what a resume repeats.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from adsbridge.export.checkpoint import PREPARED, RunState, chunk_name, damaged, progress_name, run_id
from adsbridge.export.chunks import GZIP_MAGIC, Chunk, Layout, without_data
from adsbridge.export.payloads import Prepared, RunInfo
from adsbridge.export.prepare import Target
from adsbridge.export.report import Counters
from adsbridge.export.run import progress_document, result_document, resume_point, run_info
from adsbridge.export.source import InputError, file_pin, is_json_lines, s3_get
from adsbridge.export.upload import Settled
from adsbridge.settings import ExportSettings

_DIGEST_BLOCK = 1 << 20
WHOLE_INPUT = 0  # the chunk index of ``adsbridge export``'s one chunk: the whole input
StateOpener = Callable[[str], AbstractContextManager[RunState]]  # a run's store by its id, held while open


@dataclass(frozen=True)
class InputVersion:
    """What tells one version of an input from another, and what the prepared run records of it."""

    bucket: str  # "" for a local file
    key: str  # the resolved local path, or the object key
    version: str  # a local file's "<mtime_ns>:sha256:<hex of its bytes>", the object's ETag
    size: int
    compressed: bool
    pin: str  # what the input opened for the run must still be (``source.open_input``): the ETag, ``file_pin``


def input_version(source: str, s3: Any = None, *, digest: bool = True) -> InputVersion:
    """The version of ``source`` (a local path or ``s3://bucket/key``, opened already: it exists). Without
    ``digest`` (a run that is not resumable: its version is never compared) a local file's bytes are not hashed,
    as there is no use reading it one time more; its version is then "<mtime_ns>:unhashed"."""
    if source.startswith("s3://"):
        bucket, _, key = source.removeprefix("s3://").partition("/")
        found = s3_get(source, s3)  # a GET, not a HEAD: what cannot be read says so as reading it would
        with closing(found["Body"]) as body:
            magic = body.read(len(GZIP_MAGIC))
        etag = str(found["ETag"])
        return InputVersion(bucket, key, etag, int(found["ContentLength"]), magic == GZIP_MAGIC, pin=etag)
    path = Path(source).resolve()
    with path.open("rb") as raw:
        magic = raw.read(len(GZIP_MAGIC))
        pin = file_pin(os.fstat(raw.fileno()))
        content = f"sha256:{_sha256(raw, magic)}" if digest else "unhashed"
        if file_pin(stat := os.fstat(raw.fileno())) != pin:  # written while hashed: the digest is of no version
            raise InputError(f"input: {path} changed while it was read to take its version: run the export again")
    return InputVersion("", str(path), f"{stat.st_mtime_ns}:{content}", stat.st_size, magic == GZIP_MAGIC, pin=pin)


def _sha256(raw: IO[bytes], head: bytes) -> str:
    """The hex SHA-256 of ``head`` and the rest of ``raw``."""
    digest = hashlib.sha256(head)
    while block := raw.read(_DIGEST_BLOCK):
        digest.update(block)
    return digest.hexdigest()


class Checkpoints:
    """One run's saved state as ``adsbridge export`` uses it; without a store (a query's result, a new object
    each time: not resumable) it saves nothing and finds nothing."""

    def __init__(self, store: RunState | None, run: str, version: InputVersion, json_lines: bool) -> None:
        self.store = store
        self.run = run
        self.version = version
        self.json_lines = json_lines
        found = store.load(PREPARED) if store is not None else None
        with self._reading(PREPARED):
            self.prepared = Prepared.model_validate(found).run if found is not None else None

    @classmethod
    @contextmanager
    def of(
        cls, source: str, settings: ExportSettings, state: StateOpener | None, s3: Any = None
    ) -> Iterator[Checkpoints]:
        """The checkpoints of ``source`` under ``settings``, while ``state`` holds the run's store (None: the run
        is not resumable)."""
        version = input_version(source, s3, digest=state is not None)
        run = run_id(version.bucket, version.key, version.version, settings.wire())
        with state(run) if state is not None else nullcontext() as store:
            yield cls(store, run, version, is_json_lines(source))

    def finished(self) -> Counters | None:
        """The counters of an earlier run that sent every row (nothing is left to send), else None."""
        result = self.store.chunk(WHOLE_INPUT) if self.store is not None and self.prepared else None
        with self._reading(chunk_name(WHOLE_INPUT)):
            return Counters.restore(result) if result is not None else None

    def resume_point(self) -> tuple[int, Counters]:
        """The offset after the last batch an earlier run got accepted, and its counters (0 and none: the start)."""
        if self.store is None or self.prepared is None:
            return resume_point(None)
        progress = self.store.progress(WHOLE_INPUT)
        with self._reading(progress_name(WHOLE_INPUT)):
            return resume_point(progress)

    @contextmanager
    def _reading(self, name: str) -> Iterator[None]:
        """``RunStateDamaged`` for a saved document that is JSON but not the document it should be (edited, or
        written by another version): resuming from a guess could send rows twice or leave some out."""
        try:
            yield
        except (ValidationError, KeyError, TypeError, ValueError):
            assert self.store is not None  # documents are read only from a store
            raise damaged(self.store.location, name, "not a state document") from None

    def prepare(self, target: Target, settings: ExportSettings, started_at: str) -> RunInfo:
        """The run prepared for ``target``, saved; a concurrent run that saved first wins (its audience is used)."""
        layout = Layout(self.json_lines, compressed=self.version.compressed, header="")  # read whole: no header kept
        info = run_info(self.run, target, layout, settings, started_at)
        document = Prepared(run=info, chunks=[Chunk(WHOLE_INPUT, 0, self.version.size)]).model_dump(mode="json")
        if self.store is not None and not self.store.create(PREPARED, document):
            info = Prepared.model_validate(self.store.load(PREPARED)).run
        self.prepared = info
        return info

    def accepted(self, settled: Settled) -> None:
        if self.store is not None:
            self.store.save_progress(WHOLE_INPUT, progress_document(WHOLE_INPUT, settled))

    def finish(self, counters: Counters) -> None:
        if self.store is not None:
            self.store.save_chunk(WHOLE_INPUT, result_document(WHOLE_INPUT, counters))


def skip_data(stream: IO[bytes], offset: int, json_lines: bool) -> IO[bytes]:
    """``stream`` (a whole input) positioned ``offset`` bytes of data after its CSV header line, which stays in
    front (``RowReader`` offsets count data only); gzip input's offsets are in its decompressed bytes."""
    return stream if not offset else without_data(stream, offset, header=not json_lines)
