"""Streaming input: CSV (header row) or JSON lines, optionally gzip, from a local path or ``s3://``.

Rows are yielded one at a time with lower-cased column names, so memory does not grow with the file.
A line that cannot be read as a row is yielded as a ``MalformedRow`` (counted, never echoed).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

_GZIP_MAGIC = b"\x1f\x8b"
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")


@dataclass(frozen=True)
class MalformedRow:
    """A line that is not a row: wrong column count, bad JSON, not an object."""

    line: int
    reason: str


Row = dict[str, str]


class Rows(Protocol):
    """Rows that know how far into the input the last one yielded reaches (``RowReader``, or a fake)."""

    @property
    def offset(self) -> int: ...

    def __iter__(self) -> Iterator[Row | MalformedRow]: ...


def is_json_lines(name: str) -> bool:
    return name.lower().removesuffix(".gz").endswith(JSON_SUFFIXES)


@contextmanager
def open_input(uri: str, *, s3_client: Any = None) -> Iterator[IO[bytes]]:
    """Open a local path or ``s3://bucket/key`` as a binary stream, transparently gunzipping it."""
    if uri.startswith("s3://"):
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        if not bucket or not key:
            raise ValueError(f"input: {uri!r} is not s3://bucket/key")
        if s3_client is None:
            import boto3

            s3_client = boto3.client("s3")
        raw: IO[bytes] = s3_client.get_object(Bucket=bucket, Key=key)["Body"]
    else:
        raw = Path(uri).open("rb")  # noqa: SIM115 - closed below
    try:
        head = raw.read(2)
        stream: IO[bytes] = io.BufferedReader(PrefixedStream(head, raw), buffer_size=1 << 16)
        yield gzip.GzipFile(fileobj=stream) if head == _GZIP_MAGIC else stream  # type: ignore[misc]
    finally:
        raw.close()


class PrefixedStream(io.RawIOBase):
    """A raw stream that yields ``head`` before the rest of ``body``: the gzip sniff given back (S3 bodies
    cannot peek), or a CSV header put in front of a chunk's byte range.
    """

    def __init__(self, head: bytes, body: IO[bytes]) -> None:
        self._head = head
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._body.read(len(view))
        view[: len(data)] = data
        return len(data)


def read_rows(stream: IO[bytes], *, json_lines: bool, start: int = 0) -> RowReader:
    """Rows (lower-cased keys, string values) or MalformedRow markers from a binary stream."""
    return RowReader(stream, json_lines=json_lines, start=start)


class RowReader(Iterator[Row | MalformedRow]):
    """Yields rows and knows how far into the input they reach, so an upload can resume after a row.

    ``offset`` is ``start`` plus the bytes of data (after a CSV header line) consumed through the last row
    yielded: always a line boundary, a quoted CSV field's newlines included. Bytes are counted exactly by
    re-encoding each line: text is decoded with ``surrogateescape`` so undecodable bytes encode back as they
    were (rows still read them as U+FFFD), and a UTF-8 BOM is counted, then dropped.
    """

    def __init__(self, stream: IO[bytes], *, json_lines: bool, start: int = 0) -> None:
        self.offset = start
        self._start = start
        text = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="")
        lines = self._counted(text)
        self._rows = self._json_rows(lines) if json_lines else self._csv_rows(lines)

    def __next__(self) -> Row | MalformedRow:
        return next(self._rows)

    def _counted(self, text: io.TextIOWrapper) -> Iterator[str]:
        for number, line in enumerate(text):
            try:
                self.offset += len(line.encode("utf-8"))
            except UnicodeEncodeError:
                raw = line.encode("utf-8", "surrogateescape")
                self.offset += len(raw)
                line = raw.decode("utf-8", "replace")
            yield line.removeprefix("\ufeff") if number == 0 else line

    def _csv_rows(self, lines: Iterator[str]) -> Iterator[Row | MalformedRow]:
        reader = csv.reader(lines)
        header = next(reader, None)
        self.offset = self._start  # offsets count data only: a chunk's byte range has no header line
        if header is None:
            return
        names = [name.strip().lower() for name in header]
        width = len(names)
        for values in reader:
            if not values:  # blank line
                continue
            if len(values) != width:
                yield MalformedRow(reader.line_num, f"expected {width} columns, found {len(values)}")
                continue
            yield dict(zip(names, values, strict=True))

    @staticmethod
    def _json_rows(lines: Iterator[str]) -> Iterator[Row | MalformedRow]:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                yield MalformedRow(number, "not valid JSON")
                continue
            if not isinstance(obj, dict):
                yield MalformedRow(number, "not a JSON object")
                continue
            yield {str(k).lower(): _text(v) for k, v in obj.items()}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | dict | list):
        return json.dumps(value)
    return str(value)
