"""A landed Parquet file's columns, read from its footer with ranged GETs of the file's tail only.

Parquet ends with ``<footer><4-byte little-endian footer length>PAR1``: one suffix GET usually holds it all, a
second fetches exactly the footer when it is longer. pyarrow parses the footer from a file-like object that
knows only that tail and refuses any read before it, so the data pages are never fetched.
"""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from adsbridge.stream.v2 import hive_types

TAIL_BYTES = 256 * 1024  # one GET holds the footer of ~460 columns (≈170 bytes per column and row group)
MAGIC = b"PAR1"

_SIMPLE = {
    "bool": "boolean",
    "int8": "tinyint",
    "int16": "smallint",
    "int32": "int",
    "int64": "bigint",
    "uint8": "smallint",
    "uint16": "int",
    "uint32": "bigint",
    "float": "float",
    "halffloat": "float",
    "double": "double",
    "string": "string",
    "large_string": "string",
    "binary": "binary",
    "large_binary": "binary",
    "date32[day]": "date",
}


class NotParquet(ValueError):
    reason = "not_parquet"


class UnsupportedType(ValueError):
    reason = "unsupported_column_type"


class _Tail(io.RawIOBase):
    """A read-only file of ``size`` bytes of which only the last ``len(tail)`` are known."""

    def __init__(self, size: int, tail: bytes) -> None:
        self._size, self._tail, self._pos = size, tail, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._pos = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence] + offset
        return self._pos

    def readinto(self, buffer: Any) -> int:
        start = self._pos - (self._size - len(self._tail))
        if start < 0:
            raise OSError("read before the fetched footer")
        chunk = self._tail[start : start + len(buffer)]
        buffer[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)


def _get_tail(s3: Any, bucket: str, key: str, length: int) -> tuple[int, bytes]:
    """(file size, its last ``length`` bytes, or the whole file when shorter)."""
    response = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=-{length}")
    body = response["Body"].read()
    content_range = response.get("ContentRange")  # "bytes a-b/size"; absent when the whole object came back
    return (int(content_range.rsplit("/", 1)[1]) if content_range else len(body)), body


def read_schema(s3: Any, bucket: str, key: str) -> pa.Schema:
    size, tail = _get_tail(s3, bucket, key, TAIL_BYTES)
    if len(tail) < 12 or tail[-4:] != MAGIC:
        raise NotParquet("the object does not end with Parquet's magic bytes")
    needed = int.from_bytes(tail[-8:-4], "little") + 8
    if needed > size - 4:
        raise NotParquet("the footer length runs past the start of the object")
    if needed > len(tail):
        size, tail = _get_tail(s3, bucket, key, needed)
    try:
        return pq.read_schema(_Tail(size, tail))
    except (OSError, pa.ArrowException) as exc:
        raise NotParquet(f"the footer does not parse ({type(exc).__name__})") from None


def hive_type(kind: pa.DataType) -> str:
    """The Hive type Athena reads a Parquet column of this Arrow type as; nested structs stay structs."""
    return hive_types.render(_hive(kind))


def _hive(kind: pa.DataType) -> hive_types.HiveType:
    if pa.types.is_struct(kind):
        fields = (kind.field(i) for i in range(kind.num_fields))
        return hive_types.Struct(tuple((f.name.lower(), _hive(f.type)) for f in fields))
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return hive_types.Array(_hive(kind.value_type))
    if pa.types.is_map(kind):
        return hive_types.Map(_hive(kind.key_type), _hive(kind.item_type))
    if pa.types.is_decimal(kind):
        return hive_types.Primitive("decimal", (kind.precision, kind.scale))
    if pa.types.is_timestamp(kind):
        return hive_types.Primitive("timestamp")
    if str(kind) in _SIMPLE:
        return hive_types.Primitive(_SIMPLE[str(kind)])
    raise UnsupportedType(f"no Hive type for Parquet/Arrow type {kind}")


def columns(schema: pa.Schema) -> dict[str, str]:
    """Glue column name (lower case, as Athena matches Parquet columns) → Hive type."""
    return {field.name.lower(): hive_type(field.type) for field in schema}
