"""A resume drops exactly the rows a ``RowReader`` offset says were read, whatever ends the input's lines.

``chunks.without_data`` (``adsbridge export``'s resume and the state machine's gzip chunk re-open) skips the
header as the row reader ends it: a lone ``\\r`` (Excel for Mac's "CSV (Macintosh)"), ``\\r\\n`` or ``\\n``, a BOM,
and a quoted cell that holds a newline, in the header or in a row.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import pytest

from adsbridge.export import chunks
from adsbridge.export.chunks import Chunk, plan_chunks, without_data
from adsbridge.export.source import MalformedRow, PrefixedStream, Row, open_input, read_rows

HEADER = ['externaluserid,email,"address', 'line"']
ROWS = ["u1,a@example.com,1 Main St", 'u2,b@example.com,"2 Side St', 'Apt 3"', "u3,c@example.com,", "u4,d@x.com,4 End"]


def csv_text(newline: str, *, bom: bool = False) -> bytes:
    return (("\ufeff" if bom else "") + newline.join([*HEADER, *ROWS]) + newline).encode()


VARIANTS = {
    "cr-only": csv_text("\r"),
    "crlf": csv_text("\r\n"),
    "lf": csv_text("\n"),
    "bom-cr-only": csv_text("\r", bom=True),
    "bom-crlf": csv_text("\r\n", bom=True),
    "no-final-newline": csv_text("\r").removesuffix(b"\r"),
}


def rows_with_offsets(stream: IO[bytes], start: int = 0) -> list[tuple[int, Row | MalformedRow]]:
    reader = read_rows(stream, json_lines=False, start=start)
    return [(reader.offset, row) for row in reader]


def resumed_everywhere(open_stream: Callable[[], IO[bytes]]) -> None:
    """From every row boundary (and 0), the resumed reader yields exactly the rows after it, at the same offsets."""
    whole = rows_with_offsets(open_stream())
    assert len([row for _, row in whole if not isinstance(row, MalformedRow)]) == 4
    for offset in [0, *(end for end, _ in whole)]:
        expected = [(end, row) for end, row in whole if end > offset]
        assert rows_with_offsets(without_data(open_stream(), offset, header=True), start=offset) == expected


@pytest.mark.parametrize("name", VARIANTS)
def test_a_resume_from_every_row_gives_exactly_the_remaining_rows(name: str) -> None:
    data = VARIANTS[name]
    resumed_everywhere(lambda: io.BufferedReader(io.BytesIO(data)))


@pytest.mark.parametrize("name", ["cr-only", "crlf"])
def test_a_gzip_input_resumes_in_its_decompressed_bytes(name: str, tmp_path: Path) -> None:
    path = tmp_path / "audience.csv.gz"
    path.write_bytes(gzip.compress(VARIANTS[name]))

    with ExitStack() as opened:
        resumed_everywhere(lambda: opened.enter_context(open_input(str(path))))


def test_the_cr_only_header_is_one_line_not_the_whole_file() -> None:
    data = csv_text("\r")
    reader = read_rows(io.BytesIO(data), json_lines=False)
    assert reader.header_bytes == len(("\r".join(HEADER) + "\r").encode())
    assert reader.columns == ["externaluserid", "email", "address\rline"]


@pytest.mark.parametrize("name", VARIANTS)
@pytest.mark.parametrize("chunk_bytes", [1, 7, 40])
@pytest.mark.parametrize("scan_bytes", [1, 2, 3, 5, chunks.SCAN_BYTES])  # small: a \r\n split between two reads
def test_the_chunks_of_a_plan_read_as_the_whole_file_and_resume_inside_as_it_does(
    name: str, chunk_bytes: int, scan_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The state machine's chunks: cut where the row reader ends rows (a lone \\r included), each read as the
    layout's header then its byte range (from an offset inside it, as a resumed chunk is), gives the file's rows."""
    monkeypatch.setattr(chunks, "SCAN_BYTES", scan_bytes)
    data = VARIANTS[name]
    whole = rows_with_offsets(io.BufferedReader(io.BytesIO(data)))
    plan = plan_chunks("in.csv", len(data), lambda start, end: data[start:end], chunk_bytes=chunk_bytes)
    assert plan.chunks and plan.chunks[0].start == read_rows(io.BytesIO(data), json_lines=False).header_bytes
    rows: list[Row | MalformedRow] = []
    for chunk in plan.chunks:

        def chunk_from(offset: int, chunk: Chunk = chunk) -> list[tuple[int, Row | MalformedRow]]:
            stream = PrefixedStream(plan.layout.header.encode(), io.BytesIO(data[chunk.start + offset : chunk.end]))
            return rows_with_offsets(io.BufferedReader(stream), start=offset)

        found = chunk_from(0)
        rows += [row for _, row in found]
        for offset, _ in found:  # resumed after each row: the rest of the chunk
            assert chunk_from(offset) == [(end, row) for end, row in found if end > offset]
    assert [row for row in rows if not isinstance(row, MalformedRow)] == [
        row for _, row in whole if not isinstance(row, MalformedRow)
    ]
