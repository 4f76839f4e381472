"""Chunk planning: whole lines per chunk, the CSV header carried once, gzip as one chunk, every byte covered.
Reading a chunk on from a row's offset yields the rows after it.
"""

from __future__ import annotations

import gzip
import io
from typing import Any

import pytest

from adsbridge.export.chunks import (
    MAX_CHUNKS,
    PROBE_BYTES,
    SCAN_AHEAD,
    SCAN_BYTES,
    Chunk,
    Plan,
    open_chunk,
    plan_chunks,
)
from adsbridge.export.source import MalformedRow, read_rows


class Ranges:
    """An in-memory object read by range, counting the bytes read (planning must not read the whole file)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.bytes_read = 0

    def __call__(self, start: int, end: int) -> bytes:
        self.bytes_read += end - start
        return self.data[start:end]


def csv_bytes(rows: int) -> bytes:
    return b"externalUserId,email\n" + b"".join(b"u%d,user%d@example.com\n" % (i, i) for i in range(rows))


def test_csv_chunks_cover_the_data_in_whole_lines_after_the_header() -> None:
    data = csv_bytes(500)
    plan = plan_chunks("in.csv", len(data), Ranges(data), chunk_bytes=1000)
    assert plan.layout.header == "externalUserId,email\n" and not plan.layout.compressed
    assert plan.chunks[0].start == len(plan.layout.header)
    assert plan.chunks[-1].end == len(data)
    for before, after in zip(plan.chunks, plan.chunks[1:], strict=False):
        assert before.end == after.start
    for chunk in plan.chunks:
        assert data[chunk.end - 1 : chunk.end] == b"\n"
        assert 1000 <= chunk.end - chunk.start < 1000 + 30 or chunk is plan.chunks[-1]
    assert [c.index for c in plan.chunks] == list(range(len(plan.chunks)))


def test_json_lines_have_no_header_and_start_at_zero() -> None:
    data = b"".join(b'{"externaluserid":"u%d"}\n' % i for i in range(100))
    plan = plan_chunks("in.jsonl", len(data), Ranges(data), chunk_bytes=500)
    assert plan.layout.json_lines and plan.layout.header == ""
    assert plan.chunks[0].start == 0 and plan.chunks[-1].end == len(data)


def test_gzip_input_is_one_chunk() -> None:
    data = gzip.compress(csv_bytes(500))
    plan = plan_chunks("in.csv.gz", len(data), Ranges(data), chunk_bytes=100)
    assert plan.layout.compressed
    assert plan.chunks == [Chunk(0, 0, len(data))]


def test_json_lines_planning_reads_a_few_windows_not_the_file() -> None:
    data = b"".join(b'{"externaluserid":"u%d"}\n' % i for i in range(200_000))
    reader = Ranges(data)
    plan = plan_chunks("in.jsonl", len(data), reader, chunk_bytes=len(data) // 4)
    assert len(plan.chunks) in (4, 5)
    assert reader.bytes_read < len(data) // 2


def test_csv_planning_reads_each_byte_once_and_stops_at_the_last_chunk() -> None:
    data = csv_bytes(600_000)  # several scan blocks
    reader = Ranges(data)
    plan = plan_chunks("in.csv", len(data), reader, chunk_bytes=len(data) // 3)
    assert len(plan.chunks) in (3, 4)
    assert reader.bytes_read <= plan.chunks[-1].start + SCAN_BYTES * (SCAN_AHEAD + 1) + 2 * PROBE_BYTES


def test_a_last_line_without_newline_ends_the_last_chunk() -> None:
    data = csv_bytes(10).rstrip(b"\n")
    plan = plan_chunks("in.csv", len(data), Ranges(data), chunk_bytes=50)
    assert plan.chunks[-1].end == len(data)


def test_empty_input_has_no_chunks_and_chunk_count_is_capped() -> None:
    assert plan_chunks("in.csv", 0, Ranges(b"")).chunks == []
    data = csv_bytes(5_000)
    assert len(plan_chunks("in.csv", len(data), Ranges(data), chunk_bytes=1).chunks) <= MAX_CHUNKS


def test_chunk_bytes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="chunk_bytes"):
        plan_chunks("in.csv", 10, Ranges(b"a\n" * 5), chunk_bytes=0)


class FakeS3:
    """``get_object`` of one object, whole or by ``Range``, as S3 answers it."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def get_object(self, Bucket: str, Key: str, Range: str | None = None) -> dict[str, Any]:
        start, _, end = (Range or "bytes=0-").removeprefix("bytes=").partition("-")
        return {"Body": io.BytesIO(self.data[int(start) : int(end) + 1 if end else None])}


def read_chunk(s3: FakeS3, plan: Plan, chunk: Chunk, offset: int = 0) -> list[tuple[object, int]]:
    with open_chunk(s3, "b", "in.csv", plan.layout, chunk, offset) as stream:
        reader = read_rows(stream, json_lines=plan.layout.json_lines, start=offset)
        return [(row, reader.offset) for row in reader]


@pytest.mark.parametrize("compress", [False, True])
def test_a_chunk_read_on_from_a_row_offset_yields_the_rows_after_it(compress: bool) -> None:
    header = "\ufeffexternalUserId,note\n".encode()
    rows = "".join(f'u{i},"ü{i}\nzweite Zeile"\n' for i in range(40)).encode()
    data = gzip.compress(header + rows) if compress else header + rows
    s3 = FakeS3(data)
    plan = plan_chunks("in.csv", len(data), Ranges(data), chunk_bytes=200)
    assert len(plan.chunks) == 1 if compress else len(plan.chunks) > 3
    for chunk in plan.chunks:
        whole = read_chunk(s3, plan, chunk)
        assert whole[-1][1] == (len(rows) if compress else chunk.end - chunk.start)
        for i, (_, offset) in enumerate(whole):
            assert read_chunk(s3, plan, chunk, offset) == whole[i + 1 :]


def quoted_csv(rows: int, newline: bytes = b"\n") -> bytes:
    """A CSV whose quoted fields hold newlines (some ending with one, some continuing with a quote), doubled
    quotes and ``"`` bytes in every position a boundary could fall near."""
    fields = [
        b"Street %d",
        b'"12 Main St\n"',
        b'"line one\n""quoted"" line two"',
        b'"a ""b"" c"',
        b'"\n\n"',
        b'"x\r\n"",y"""',
        b'""',
    ]
    lines = [b'"externalUserId",email,address' + newline]
    for i in range(rows):
        address = fields[i % len(fields)].replace(b"%d", b"%d" % i)
        lines.append(b'u%d,"user%d@example.com",%s%s' % (i, i, address, newline))
    return b"".join(lines)


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_csv_chunks_never_cut_a_quoted_field_so_rows_match_the_whole_file(newline: bytes) -> None:
    data = quoted_csv(60, newline)
    s3 = FakeS3(data)
    everything = plan_chunks("in.csv", len(data), Ranges(data), chunk_bytes=len(data))
    expected = [row for row, _ in read_chunk(s3, everything, everything.chunks[0])]
    assert len(expected) == 60 and not any(isinstance(row, MalformedRow) for row in expected)
    for chunk_bytes in range(1, 120):  # every boundary lands on, inside and just after each kind of field
        plan = plan_chunks("in.csv", len(data), Ranges(data), chunk_bytes=chunk_bytes)
        rows = [row for chunk in plan.chunks for row, _ in read_chunk(s3, plan, chunk)]
        assert rows == expected, chunk_bytes


def test_a_boundary_just_after_a_newline_inside_a_quoted_last_field_moves_to_the_rows_end() -> None:
    data = b'externalUserId,address\nu0,a\nu1,"12 Main St\nApt 5"\nu2,b\n'
    cut = data.index(b"12 Main St\n") + len(b"12 Main St\n")
    plan = plan_chunks("in.csv", len(data), Ranges(data), chunk_bytes=cut - len(b"externalUserId,address\n"))
    assert [data[c.start : c.end] for c in plan.chunks] == [b'u0,a\nu1,"12 Main St\nApt 5"\n', b"u2,b\n"]


def test_unbalanced_quotes_keep_the_rest_of_the_file_in_one_chunk() -> None:
    data = b'externalUserId,note\nu0,a\nu1,"open\nu2,b\nu3,c\n'
    plan = plan_chunks("in.csv", len(data), Ranges(data), chunk_bytes=1)
    assert [(c.start, c.end) for c in plan.chunks][-1][1] == len(data)
    assert data[plan.chunks[-1].start :].startswith(b'u1,"open')
