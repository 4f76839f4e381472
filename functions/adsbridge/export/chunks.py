"""Chunk planning: split one input object into byte ranges that Lambdas can upload independently.

Ranges end on line boundaries, so every chunk holds whole rows; a CSV's header line is carried in the
layout and put back in front of every chunk. Two limits, both stated in the plan:

* gzip input cannot be split by byte range (the deflate stream has no random access): it is one chunk.
* a quoted CSV field containing a newline that happens to straddle a boundary is split in two; both halves
  are then counted as malformed rows (never uploaded), as a bad row would be.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from adsbridge.export.source import PrefixedStream, is_json_lines, open_input

GZIP_MAGIC = b"\x1f\x8b"
PROBE_BYTES = 64 * 1024
# Sized so one chunk finishes well inside Lambda's 15 minutes when paced at its share of Amazon's hourly limit:
# at ~150 bytes a row, 32 MiB is ~220k rows; even paced at 1/8 of 13.5M/hour that is ~8 minutes.
DEFAULT_CHUNK_BYTES = 32 * 1024 * 1024
MAX_CHUNKS = 2_000  # descriptors travel in Step Functions state (256 KiB); larger inputs get larger chunks

ReadRange = Callable[[int, int], bytes]  # (start, end exclusive) -> bytes


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
    """Plan the chunks of an object of ``size`` bytes, reading only a few small ranges through ``read``."""
    if chunk_bytes < 1:
        raise ValueError("chunk_bytes: must be positive")
    json_lines = is_json_lines(key)
    if size == 0:
        return Plan(Layout(json_lines, compressed=False, header=""), [])
    head = read(0, min(size, PROBE_BYTES))
    if head.startswith(GZIP_MAGIC):
        return Plan(Layout(json_lines, compressed=True, header=""), [Chunk(0, 0, size)])
    data_start = 0
    header = ""
    if not json_lines:
        data_start = _line_end(read, 0, size)
        header = read(0, data_start).decode("utf-8", errors="replace")
    chunk_bytes = max(chunk_bytes, -(-(size - data_start) // MAX_CHUNKS))
    chunks: list[Chunk] = []
    start = data_start
    while start < size:
        end = size if start + chunk_bytes >= size else _line_end(read, start + chunk_bytes - 1, size)
        chunks.append(Chunk(len(chunks), start, end))
        start = end
    return Plan(Layout(json_lines, compressed=False, header=header), chunks)


def _line_end(read: ReadRange, position: int, size: int) -> int:
    """The offset just past the first newline at or after ``position`` (``size`` when there is none)."""
    while position < size:
        window = read(position, min(size, position + PROBE_BYTES))
        newline = window.find(b"\n")
        if newline >= 0:
            return position + newline + 1
        position += len(window)
    return size


def s3_range_reader(s3: Any, bucket: str, key: str) -> ReadRange:
    def read(start: int, end: int) -> bytes:
        body = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end - 1}")["Body"]
        try:
            data: bytes = body.read()
        finally:
            body.close()
        return data

    return read


@contextmanager
def open_chunk(s3: Any, bucket: str, key: str, layout: Layout, chunk: Chunk, offset: int = 0) -> Iterator[IO[bytes]]:
    """The chunk's bytes as a stream that reads like a whole file (header first, for CSV).

    ``offset`` (a ``RowReader`` offset: bytes of data after the header) resumes a chunk part-way: the range
    read starts there, after the layout's header. gzip has no random access: its data up to there is read
    and dropped.
    """
    if layout.compressed:
        with open_input(f"s3://{bucket}/{key}", s3_client=s3) as stream:
            yield _without_data(stream, offset, header=not layout.json_lines) if offset else stream
        return
    start = chunk.start + offset
    body = (
        s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{chunk.end - 1}")["Body"]
        if start < chunk.end
        else io.BytesIO()
    )
    try:
        yield io.BufferedReader(PrefixedStream(layout.header.encode("utf-8"), body), buffer_size=1 << 16)
    finally:
        body.close()


def _without_data(stream: IO[bytes], offset: int, *, header: bool) -> IO[bytes]:
    """``stream`` with its first ``offset`` bytes after the header line (if ``header``) read and dropped."""
    head = stream.readline() if header else b""
    while offset > 0 and (dropped := len(stream.read(min(offset, PROBE_BYTES)))):
        offset -= dropped
    return io.BufferedReader(PrefixedStream(head, stream), buffer_size=1 << 16)
