"""Streaming input: CSV (header row) or JSON lines, optionally gzip, from a local path or ``s3://``.

Rows are yielded one at a time with lower-cased column names, so memory does not grow with the file.
A line that cannot be read as a row is yielded as a ``MalformedRow`` (counted, never echoed).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
import re
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Protocol, cast

from adsbridge.export.consent import AMZN_COLUMNS, STRING_COLUMNS
from adsbridge.export.header_hint import KNOWN_COLUMNS, describe_header, known, meant
from adsbridge.identity import PII_FIELDS

_GZIP_MAGIC = b"\x1f\x8b"
_S3_STATUS_CODES = {"403": "AccessDenied", "404": "NotFound"}  # S3's error code for a bare HTTP status
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
def open_input(
    uri: str, *, s3_client: Any = None, pin: str | None = None, replaced: Replaced | None = None
) -> Iterator[IO[bytes]]:
    """Open a local path or ``s3://bucket/key`` as a binary stream, transparently gunzipping it.

    What can go wrong with the input itself (an S3 object that cannot be read, a truncated or corrupt gzip)
    raises ``InputError`` naming the problem, when opening or later while reading: a reader that is cut short
    has still yielded the rows before the damage.

    ``pin`` is the version the caller took of the input (an S3 ETag, a local file's ``file_pin``): the input
    opened must still be that version (a GET with ``IfMatch``; the open file's status), else ``InputError``, so
    that a run never reads the bytes of another version than the one it is recorded as. ``replaced`` makes the
    error that says so (``adsbridge export``'s by default; the state machine's ``InputReplaced``).
    """
    replaced = replaced or _changed
    if uri.startswith("s3://"):
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        if not bucket or not key:
            raise ValueError(f"input: {uri!r} is not s3://bucket/key")
        conditions = {"IfMatch": pin} if pin is not None else {}
        raw: IO[bytes] = _s3_body(uri, s3_get(uri, s3_client, replaced=replaced, **conditions)["Body"])
    else:
        raw = Path(uri).open("rb")  # noqa: SIM115 - closed below
        if pin is not None and file_pin(os.fstat(raw.fileno())) != pin:
            raw.close()
            raise replaced(uri, pin)
    try:
        head = raw.read(2)
        stream: IO[bytes] = io.BufferedReader(PrefixedStream(head, raw), buffer_size=1 << 16)
        if head == _GZIP_MAGIC:
            gunzipped = gzip.GzipFile(fileobj=stream)
            stream = io.BufferedReader(_gzip_errors(gunzipped, uri), buffer_size=1 << 16)
        yield stream
    finally:
        raw.close()


Replaced = Callable[[str, str], "InputError"]  # (uri, the pin the input no longer matches) -> the error to raise


def _changed(uri: str, pin: str) -> InputError:
    """``adsbridge export``'s input replaced after it took its version: that run ends, the next one reads it."""
    return InputError(f"input: {uri} was replaced or changed after its version was taken: run the export again")


def file_pin(stat: os.stat_result) -> str:
    """What tells an open local file from another, or from itself changed: device, inode, mtime (ns) and size."""
    return f"{stat.st_dev}:{stat.st_ino}:{stat.st_mtime_ns}:{stat.st_size}"


def s3_get(uri: str, s3_client: Any, *, replaced: Replaced = _changed, **arguments: str) -> dict[str, Any]:
    """``GetObject`` of ``s3://bucket/key`` (its body unread), with S3 and credential errors as ``InputError``
    naming the cause; a failed ``IfMatch`` is ``replaced``'s error (the object was replaced)."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        if s3_client is None:
            import boto3

            s3_client = boto3.client("s3")
        response: dict[str, Any] = s3_client.get_object(Bucket=bucket, Key=key, **arguments)
    except (BotoCoreError, ClientError) as exc:
        if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") == "PreconditionFailed":
            raise replaced(uri, arguments.get("IfMatch", "")) from None
        raise InputError(f"input: cannot read {uri}: {_s3_reason(exc)}") from None
    return response


def _s3_reason(exc: Exception) -> str:
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "error")
        # a 403 whose body was not read (a GET refused by a bucket policy, as S3-compatible servers answer)
        # carries only its status: it is S3's AccessDenied
        code = _S3_STATUS_CODES.get(code, code)
        text = f"{code} ({error.get('Message') or 'no message'})"
    else:
        text = str(exc)  # NoCredentialsError: "Unable to locate credentials", EndpointConnectionError, ...
    return " ".join(text.split())  # one line: botocore's parameter errors span lines


def _s3_body(uri: str, body: Any) -> IO[bytes]:
    """The object's body, whose read errors (S3's, the connection's) are ``InputError`` naming the cause."""
    from botocore.exceptions import BotoCoreError, ClientError

    read_error = _ReadErrors(
        body, (BotoCoreError, ClientError), lambda exc: f"input: reading {uri} failed: {_s3_reason(exc)}"
    )
    return cast(IO[bytes], read_error)


class _ReadErrors(io.RawIOBase):
    """A raw stream over ``body.read`` (or ``read``) that turns the given errors into ``InputError(message(exc))``.

    Each ``readinto`` makes one read, so what was read before a failing read has been handed on whole.
    """

    def __init__(
        self,
        body: Any,
        errors: tuple[type[Exception], ...],
        message: Callable[[Exception], str],
        read: Callable[[int], bytes] | None = None,
    ) -> None:
        self._body = body
        self._errors = errors
        self._message = message
        self._read: Callable[[int], bytes] = read or body.read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        try:
            data = self._read(len(view))
        except self._errors as exc:
            raise InputError(self._message(exc)) from None
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._body.close()
        super().close()


def _gzip_errors(gunzipped: gzip.GzipFile, uri: str) -> _ReadErrors:
    """Gzip damage as ``InputError``: the end cut off (EOFError), or bytes that do not inflate or fail the CRC.

    Reads go through ``read1``, which inflates once and returns what it got: ``read(n)`` loops to fill ``n``
    and drops what it inflated when the damage strikes in that loop, so rows before the damage were lost.
    Bytes after the last gzip member that start no other are named, never quoted (gzip's own message shows
    them, and they may be data).
    """

    def message(exc: Exception) -> str:
        if isinstance(exc, EOFError):
            return f"input: {uri} is a truncated gzip file (it ends before the gzip end marker)"
        if isinstance(exc, gzip.BadGzipFile) and str(exc).startswith("Not a gzipped file"):
            return f"input: {uri} is a corrupt gzip file (bytes after the gzip data are not another gzip member)"
        return f"input: {uri} is a corrupt gzip file ({exc})"

    return _ReadErrors(gunzipped, (EOFError, zlib.error, gzip.BadGzipFile), message, read=gunzipped.read1)


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


EXTERNAL_USER_ID_COLUMN = "externaluserid"
NOT_UTF8 = "not UTF-8"
NUL_BYTE = "a NUL byte (binary data, not text)"
SPANS_LINES = "a quoted field spans lines (an unclosed quote?)"
_SINGLE_LINE = frozenset({EXTERNAL_USER_ID_COLUMN, "countrycode", *PII_FIELDS} - {"address"})
_IDENTIFIERS = frozenset({EXTERNAL_USER_ID_COLUMN, *PII_FIELDS})
_READ_COLUMNS = frozenset({*_IDENTIFIERS, "countrycode", *AMZN_COLUMNS, *STRING_COLUMNS})  # what records use
_SURROGATE = re.compile("[\ud800-\udfff]")
_BINARY = re.compile("[\x00\ufffd\udc80-\udcff]")  # NUL, a replaced or an undecodable byte


class InputError(ValueError):
    """The input cannot be exported at all (e.g. its header lacks a needed column): fails before any upload."""


class InputReplaced(InputError):
    """A state-machine run's S3 input replaced after Prepare took its ETag (a GET ``IfMatch`` it answered 412).

    The run's chunks are byte ranges of that version: read in the new one they would cut rows mid-line and mix
    two files' rows under the old run's id and checkpoints. So the task fails, and is not retried (a retry
    reads the same new version; the ASL retries only Lambda's and Ads' transient errors): the new version's
    own S3 event starts its own run, whose id its ETag makes.
    """

    def __init__(self, uri: str, etag: str) -> None:
        super().__init__(f"input: {uri} was replaced after the run started (ETag {etag}): the new version is a new run")


def column_names(header: list[str]) -> list[str]:
    """Header cells as rows match them: stripped and lower-cased (``Email `` is ``email``)."""
    return [name.strip().lower() for name in header]


def header_columns(line: str) -> list[str]:
    """A CSV header line's column names as rows use them."""
    try:
        names = next(csv.reader([line.removeprefix("\ufeff")]), [])
    except csv.Error as exc:
        raise InputError(f"input: the header line is not CSV ({exc})") from None
    return column_names(names)


def check_columns(columns: list[str] | None) -> None:
    """Raise ``InputError`` unless a CSV header has ``externaluserid``, at least one PII column and no name twice.

    Without those columns every row would be skipped after the audience was created, and a name given twice
    (``Email`` and ``email ``) would have one value silently replace the other: this fails first, naming the
    problem. Names are matched as rows use them (``column_names``). ``None`` (JSON lines: no header) and an
    empty input (no header line) pass.

    A header line cannot be told from a data line (``Jim,Lee,Seattle`` reads as either), so a name is echoed
    only when :mod:`adsbridge.export.header_hint` knows it (``E-mail``, ``External User ID``); the rest are only
    counted, and none recognised suggests a missing header row. Data is never echoed.
    """
    if not columns:
        return
    if any(_BINARY.search(name) for name in columns):
        raise InputError("input: the header line is not UTF-8 text (save the file as UTF-8)")
    seen: dict[str, int] = {}
    for number, name in enumerate(columns, start=1):
        if name and name in seen:
            what = f"column {name}" if known(name) else f"column {number}"
            raise InputError(f"input: the header names {what} twice (columns {seen[name]} and {number})")
        seen.setdefault(name, number)
    missing = []
    if EXTERNAL_USER_ID_COLUMN not in columns:
        missing.append(f"no {EXTERNAL_USER_ID_COLUMN} column")
    if not set(columns) & set(PII_FIELDS):
        missing.append(f"no PII column ({', '.join(PII_FIELDS)})")
    if not missing:
        # a spelling of a column the export reads (``E-Mail``, ``first_name``, ``zip``), where that column is
        # absent, would be ignored without a word: the audience built without it. Refused, as adsbridge hash does.
        ignored = [name for name in columns if (target := meant(name, KNOWN_COLUMNS)) and target not in columns]
        if not ignored:
            return
        missing.append(f"{len(ignored)} column(s) the export reads under another name would be ignored")
    notes, found = describe_header(columns, KNOWN_COLUMNS)
    raise InputError(f"input: {'; '.join([*missing, *notes])} ({found})")


class RowReader(Iterator[Row | MalformedRow]):
    """Yields rows and knows how far into the input they reach, so an upload can resume after a row.

    ``offset`` is ``start`` plus the bytes of data (after a CSV header line) consumed through the last row
    yielded: always a line boundary, a quoted CSV field's newlines included. Bytes are counted exactly by
    re-encoding each line: text is decoded with ``surrogateescape`` so undecodable bytes encode back as they
    were, and a UTF-8 BOM is counted, then dropped. A line holding undecodable bytes (Latin-1, cp1252, ...)
    is never a row: its values would hash wrongly (``Müller`` as ``mller``), so it is a ``MalformedRow``
    ("not UTF-8"); so is a CSV record holding a NUL byte (binary data, not text).

    ``columns`` is the CSV header's column names (read at once, so a caller can check them with
    ``check_columns`` before creating anything), ``None`` for JSON lines. ``header_bytes`` is the length of the
    header as this reader ended it (BOM, every line of a quoted multi-line cell, and its ``\r``, ``\n`` or
    ``\r\n``): what a resume must skip before the data its offsets count (``chunks.without_data``).
    """

    def __init__(self, stream: IO[bytes], *, json_lines: bool, start: int = 0) -> None:
        self.offset = start
        self._start = start
        self._undecodable: set[int] = set()  # numbers of lines read with bytes that are not UTF-8
        text = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="")
        lines = self._counted(text)
        self.columns: list[str] | None = None
        self.header_bytes = 0
        if json_lines:
            self._rows = self._json_rows(lines)
            return
        reader = csv.reader(lines)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise InputError(f"input: the header line is not CSV ({exc})") from None
        self.header_bytes = self.offset - start
        self.offset = start  # offsets count data only: a chunk's byte range has no header line
        self.columns = column_names(header) if header is not None else []
        self._undecodable.clear()  # the header's: check_columns names it
        self._rows = self._csv_rows(reader, self.columns)

    def __next__(self) -> Row | MalformedRow:
        return next(self._rows)

    def _counted(self, text: io.TextIOWrapper) -> Iterator[str]:
        for number, line in enumerate(text, start=1):
            try:
                self.offset += len(line.encode("utf-8"))
            except UnicodeEncodeError:
                self.offset += len(line.encode("utf-8", "surrogateescape"))
                self._undecodable.add(number)
            yield line.removeprefix("\ufeff") if number == 1 else line

    def _csv_rows(self, reader: Any, names: list[str]) -> Iterator[Row | MalformedRow]:
        """Rows of the CSV after its header; every physical line is counted, as a row's or a malformed one.

        An id, an email, a name, a phone, a city, a state, a postal or a country code never holds a line
        break, so a record where one does is not a real row: mostly a stray ``"`` (``u1,"Big Jim,jim@x.com``
        never closed) that ran the field on to the next quote, swallowing the lines between and giving ``u1``
        another row's values. A record that spans lines with the wrong number of columns is the same (the
        stray quote in another column). Every physical line of such a record is counted as one malformed
        row, so totals stay line-based (what a customer counts with ``wc -l``) and nothing vanishes
        uncounted; the swallowed lines are not guessed at. A quoted line break in an address or a column
        the export does not use (a note) is legitimate CSV and stays one row. A ``csv.Error`` (such a run
        past the field size limit, ...) is the same as a broken record: the lines read are malformed and
        reading goes on with the next line.

        The chunk planner cuts at newlines after an even number of ``"`` since the file's start: for RFC 4180
        input exactly where this reader is between records, so a chunk reads as the whole file does. A
        stray quote makes that count odd, so the planner cuts no more until another unpaired quote: the rest
        is one chunk, read here as the whole file reads it.
        """
        width = len(names)
        single_line = [i for i, name in enumerate(names) if name in _SINGLE_LINE]
        while True:
            first = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error:
                yield from self._malformed(first, reader.line_num, "not CSV")
                continue
            last = reader.line_num
            broken = any("\n" in values[i] or "\r" in values[i] for i in single_line if i < len(values))
            if broken or (last > first and len(values) != width):  # or a quote left open at the end
                yield from self._malformed(first, last, SPANS_LINES)
            elif self._undecodable:
                yield from self._malformed(first, last, NOT_UTF8)
            elif any("\x00" in value for value in values):  # binary, not text: would hash as garbage
                yield from self._malformed(first, last, NUL_BYTE)
            elif not values:  # blank line
                continue
            elif len(values) != width:
                yield MalformedRow(last, f"expected {width} columns, found {len(values)}")
            else:
                yield dict(zip(names, values, strict=True))

    def _malformed(self, first: int, last: int, reason: str) -> Iterator[MalformedRow]:
        for number in range(first, last + 1):
            yield MalformedRow(number, NOT_UTF8 if number in self._undecodable else reason)
        self._undecodable.clear()

    def _json_rows(self, lines: Iterator[str]) -> Iterator[Row | MalformedRow]:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            if number in self._undecodable:
                self._undecodable.discard(number)
                yield MalformedRow(number, NOT_UTF8)
                continue
            try:
                obj = json.loads(line, object_pairs_hook=_Pairs, parse_float=Decimal)  # every digit kept
            except (ValueError, RecursionError):  # JSONDecodeError; an int past 4300 digits; nesting too deep
                yield MalformedRow(number, "not valid JSON")
                continue
            row = _json_row(obj) if isinstance(obj, _Pairs) else "not a JSON object"
            yield MalformedRow(number, row) if isinstance(row, str) else row


class _Pairs(list[tuple[str, Any]]):
    """A JSON object's members in order, repeats kept (a ``dict`` would keep only the last of a repeated key)."""


def _json_row(obj: _Pairs) -> Row | str:
    """The columns of a JSON-lines object that the export reads, as text; or why the object is no row.

    It is held to a CSV row's rules: a column given twice (``email`` and ``Email``, or one key repeated) would
    have one value silently replace the other, and a NUL (``\\u0000``) is binary data, not text.

    Other keys are dropped unread. A value must be text, a number or null: an object, an array or a boolean
    in a read column is no identifier (stringified, it would be hashed as if it were one); nor is a string
    holding a lone surrogate (``"\\ud800"`` is valid JSON but not text, and could not even be encoded to
    hash), nor a fractional number in an identifier field (4138714499.5 is no phone, id or postal code: a
    broken export, not a value to round).
    """
    row: Row = {}
    for key, value in obj:
        name = key.strip().lower()  # as a CSV header's names are matched (column_names)
        if name not in _READ_COLUMNS:
            continue
        if name in row:
            return f"the column {name} given twice"
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal | None):
            return "an object, array or boolean where text was expected"
        if isinstance(value, Decimal) and value.adjusted() >= _NUMBER_DIGITS:
            return f"a number of more than {_NUMBER_DIGITS} digits"
        if isinstance(value, str) and _SURROGATE.search(value):
            return "a lone surrogate, not text"
        if isinstance(value, str) and "\x00" in value:
            return NUL_BYTE
        if isinstance(value, float | Decimal) and not _integral(value) and name in _IDENTIFIERS:
            return "a non-integral number in an identifier field"
        row[name] = _text(value)
    return row


_NUMBER_DIGITS = 128  # no identifier is longer (an externalUserId is at most 128 characters)


def _text(value: str | float | Decimal | None) -> str:
    """A JSON value as the text a CSV cell would hold. A number with a fraction or an exponent is read as a
    ``Decimal``, not a double, so that 9007199254740993.0 stays 9007199254740993 (2^53 + 1)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float | Decimal) and _integral(value):
        return str(int(value))  # pandas writes an int column with a gap as floats: 4138714499.0 is 4138714499
    return str(value)


def _integral(value: float | Decimal) -> bool:
    """Whether a number is whole (NaN and Infinity, which JSON lines may hold as Python writes them, are not)."""
    if isinstance(value, Decimal):
        return value.is_finite() and value == value.to_integral_value()
    return math.isfinite(value) and value.is_integer()
