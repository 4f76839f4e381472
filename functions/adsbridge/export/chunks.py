"""Chunk planning: split one input object into byte ranges that Lambdas can upload independently.

Ranges end on row boundaries, so every chunk holds whole rows; a CSV's header line is carried in the
layout and put back in front of every chunk. A CSV row may span lines (a quoted field holding a newline),
so CSV boundaries are line breaks (``\n``, ``\r\n``, or a lone ``\r`` as Excel for Mac writes) after an even
number of ``"`` bytes since the start of the file: exact for RFC 4180, where a quote inside a field is doubled. Knowing that parity takes one streaming pass over the
file (quote counting runs at memory speed; reading dominates). JSON lines cannot hold a raw newline inside
a string, so their boundaries need only a few small reads. gzip input cannot be split by byte range (the
deflate stream has no random access): it is one chunk.
"""

from __future__ import annotations

import io
import re
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from functools import partial
from itertools import islice
from typing import IO, Any

from adsbridge.export.source import InputReplaced, PrefixedStream, RowReader, is_json_lines, open_input, s3_get

GZIP_MAGIC = b"\x1f\x8b"
PROBE_BYTES = 64 * 1024
SCAN_BYTES = 4 * 1024 * 1024  # one range GET of the CSV scan
SCAN_AHEAD = 4  # range GETs in flight during the scan: memory is SCAN_AHEAD + 1 blocks
# Sized so one chunk finishes well inside Lambda's 15 minutes when paced at its share of Amazon's hourly limit:
# at ~150 bytes a row, 32 MiB is ~220k rows; even paced at 1/8 of 13.5M/hour that is ~8 minutes.
DEFAULT_CHUNK_BYTES = 32 * 1024 * 1024
MAX_CHUNKS = 2_000  # descriptors travel in Step Functions state (256 KiB); larger inputs get larger chunks

ReadRange = Callable[[int, int], bytes]  # (start, end exclusive) -> bytes
_LINE_BREAK = re.compile(rb"[\r\n]")


@dataclass(frozen=True)
class Layout:
    """How every chunk of one input is read: format, compression and the CSV header line (no row data)."""

    json_lines: bool
    compressed: bool
    header: str  # the CSV header line, newline included; "" for JSON lines


@dataclass(frozen=True)
class Chunk:
    """Bytes [start, end) of the input: whole lines only (or the whole object when compressed)."""

    index: int
    start: int
    end: int


@dataclass(frozen=True)
class Plan:
    layout: Layout
    chunks: list[Chunk]


def plan_chunks(key: str, size: int, read: ReadRange, *, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> Plan:
    """Plan the chunks of an object of ``size`` bytes, reading it through ``read``.

    JSON lines need a few small ranges; CSV is read once, front to back, up to its last chunk's start.
    """
    if chunk_bytes < 1:
        raise ValueError("chunk_bytes: must be positive")
    json_lines = is_json_lines(key)
    if size == 0:
        return Plan(Layout(json_lines, compressed=False, header=""), [])
    head = read(0, min(size, PROBE_BYTES))
    if head.startswith(GZIP_MAGIC):
        return Plan(Layout(json_lines, compressed=True, header=""), [Chunk(0, 0, size)])
    if json_lines:
        return Plan(Layout(True, compressed=False, header=""), _chunks(0, size, chunk_bytes, partial(_line_end, read)))
    with closing(_blocks(read, size)) as blocks:
        row_end = _CsvRowEnds(blocks).after
        data_start = row_end(0, size)
        chunks = _chunks(data_start, size, chunk_bytes, row_end)
    header = read(0, data_start).decode("utf-8", errors="replace")
    return Plan(Layout(False, compressed=False, header=header), chunks)


def _chunks(data_start: int, size: int, chunk_bytes: int, row_end: Callable[[int, int], int]) -> list[Chunk]:
    """Chunks of at least ``chunk_bytes`` (fewer than MAX_CHUNKS), each ending where ``row_end`` says."""
    chunk_bytes = max(chunk_bytes, -(-(size - data_start) // MAX_CHUNKS))
    chunks: list[Chunk] = []
    start = data_start
    while start < size:
        end = size if start + chunk_bytes >= size else row_end(start + chunk_bytes - 1, size)
        chunks.append(Chunk(len(chunks), start, end))
        start = end
    return chunks


def _line_end(read: ReadRange, position: int, size: int) -> int:
    """The offset just past the first newline at or after ``position`` (``size`` when there is none)."""
    while position < size:
        window = read(position, min(size, position + PROBE_BYTES))
        newline = window.find(b"\n")
        if newline >= 0:
            return position + newline + 1
        position += len(window)
    return size


class _CsvRowEnds:
    """Row ends of a CSV read front to back: line breaks (``\n``, ``\r\n``, a lone ``\r``) after an even number
    of quotes since byte 0, where the row reader ends a row (a ``\r`` ending a block may be half of a
    ``\r\n``: the next block's first byte tells).

    ``after`` must be asked for non-decreasing positions; each byte is read once. Unbalanced quotes (not
    RFC 4180) put every later newline inside a field, so the current chunk runs to the end of the file, as
    Python's csv reader would read that field.
    """

    def __init__(self, blocks: Iterator[tuple[int, bytes]]) -> None:
        self._blocks = blocks
        self._offset = 0  # of the current block in the object
        self._block = b""
        self._counted = 0  # bytes of the block whose quotes ``_odd`` includes
        self._odd = False
        self._cr_ended = False  # the previous block ended in a \r outside quotes

    def after(self, position: int, size: int) -> int:
        """The offset just past the first row-ending newline at or after ``position`` (``size`` if none)."""
        while True:
            block = self._block
            if position >= self._offset + len(block):
                self._odd ^= bool(block.count(b'"', self._counted) & 1)
                self._offset, self._block = next(self._blocks, (self._offset + len(block), b""))
                self._counted = 0
                if not self._block:
                    return size
                continue
            if self._cr_ended:  # the last block ended in a \r outside quotes: the row ends there, or after a \n
                self._cr_ended = False
                self._counted = int(block.startswith(b"\n"))
                return self._offset + self._counted
            i = max(position - self._offset, self._counted)
            self._odd ^= bool(block.count(b'"', self._counted, i) & 1)
            while True:
                if self._odd:
                    quote = block.find(b'"', i)
                    if quote < 0:
                        break
                else:
                    found = _LINE_BREAK.search(block, i)
                    newline = found.start() if found else -1
                    quote = block.find(b'"', i, len(block) if newline < 0 else newline)
                    if quote < 0 and newline >= 0 and (end := _line_end_at(block, newline)):
                        self._counted = end
                        return self._offset + end
                    self._cr_ended = quote < 0 and newline >= 0  # a \r ending the block: the next block tells
                    if quote < 0:
                        break
                self._odd = not self._odd
                i = quote + 1
            self._counted = len(block)
            position = self._offset + len(block)


def _line_end_at(block: bytes, position: int) -> int:
    """Just past the line break at ``position`` of ``block``: ``\n``, ``\r\n`` or a lone ``\r`` (Excel for
    Mac's "CSV (Macintosh)"), as the row reader ends lines; 0 for a ``\r`` ending the block (it may be half
    of a ``\r\n``: the next block tells)."""
    if block[position : position + 1] == b"\n":
        return position + 1
    if position + 1 == len(block):
        return 0
    return position + 2 if block[position + 1 : position + 2] == b"\n" else position + 1


def _blocks(read: ReadRange, size: int) -> Generator[tuple[int, bytes]]:
    """``(offset, bytes)`` of consecutive SCAN_BYTES ranges, SCAN_AHEAD of them read ahead on threads.

    One range GET streams at a fraction of what S3 serves a Lambda; a few in flight keep the scan fed.
    """
    starts = iter(range(0, size, SCAN_BYTES))
    with ThreadPoolExecutor(max_workers=SCAN_AHEAD, thread_name_prefix="adsbridge-scan") as pool:
        pending = deque(
            (start, pool.submit(read, start, min(size, start + SCAN_BYTES))) for start in islice(starts, SCAN_AHEAD)
        )
        try:
            while pending:
                start, future = pending.popleft()
                data = future.result()
                following = next(starts, None)
                if following is not None:
                    pending.append((following, pool.submit(read, following, min(size, following + SCAN_BYTES))))
                yield start, data
        finally:
            for _, future in pending:
                future.cancel()


def s3_range_reader(s3: Any, bucket: str, key: str, etag: str | None = None) -> ReadRange:
    """Ranges of the object's version ``etag`` (``InputReplaced`` once it is replaced); None: any version."""

    def read(start: int, end: int) -> bytes:
        body = _get_range(s3, bucket, key, etag, start, end)
        try:
            data: bytes = body.read()
        finally:
            body.close()
        return data

    return read


def _get_range(s3: Any, bucket: str, key: str, etag: str | None, start: int, end: int) -> Any:
    """The body of bytes [start, end) of the object, ``IfMatch`` ``etag`` when given: S3 checks it before the
    range, so a replaced object answers 412 (``InputReplaced``) and never another version's bytes."""
    pinned = {"IfMatch": etag} if etag is not None else {}
    uri = f"s3://{bucket}/{key}"
    return s3_get(uri, s3, replaced=InputReplaced, Range=f"bytes={start}-{end - 1}", **pinned)["Body"]


@contextmanager
def open_chunk(
    s3: Any, bucket: str, key: str, layout: Layout, chunk: Chunk, offset: int = 0, *, etag: str | None = None
) -> Iterator[IO[bytes]]:
    """The chunk's bytes as a stream that reads like a whole file (header first, for CSV).

    ``offset`` (a ``RowReader`` offset: bytes of data after the header) resumes a chunk part-way: the range
    read starts there, after the layout's header. gzip has no random access: its data up to there is read
    and dropped. ``etag`` is the version the run planned (None: a run prepared before it was recorded, read
    as it is): another version raises ``InputReplaced`` before any of its bytes are read.
    """
    if layout.compressed:
        with open_input(f"s3://{bucket}/{key}", s3_client=s3, pin=etag, replaced=InputReplaced) as stream:
            yield without_data(stream, offset, header=not layout.json_lines) if offset else stream
        return
    start = chunk.start + offset
    body = _get_range(s3, bucket, key, etag, start, chunk.end) if start < chunk.end else io.BytesIO()
    try:
        yield io.BufferedReader(PrefixedStream(layout.header.encode("utf-8"), body), buffer_size=1 << 16)
    finally:
        body.close()


def without_data(stream: IO[bytes], offset: int, *, header: bool) -> IO[bytes]:
    """``stream`` with its first ``offset`` bytes after the CSV header (if ``header``) read and dropped.

    The header is where ``RowReader`` ends it, found by reading it with one (its offsets count data after that):
    a line may end at ``\r`` alone (Excel for Mac's "CSV (Macintosh)"), ``\n`` or ``\r\n``, and a quoted cell
    may hold a newline, so a binary ``readline`` would not do. The bytes read past the header are dropped first.
    """
    taken = _Taken(stream)
    head_length = RowReader(io.BufferedReader(taken), json_lines=False).header_bytes if header else 0
    head, rest = bytes(taken.data[:head_length]), bytes(taken.data[head_length + offset :])
    offset -= len(taken.data) - head_length
    while offset > 0 and (dropped := len(stream.read(min(offset, PROBE_BYTES)))):
        offset -= dropped
    return io.BufferedReader(PrefixedStream(head + rest, stream), buffer_size=1 << 16)


class _Taken(io.RawIOBase):
    """A raw stream over ``stream`` that keeps every byte read through it, and leaves ``stream`` open."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.data = bytearray()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        data = self._stream.read(len(view))
        view[: len(data)] = data
        self.data += data
        return len(data)
