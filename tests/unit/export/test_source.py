import gzip
import io
from pathlib import Path

from adsbridge.export.source import MalformedRow, is_json_lines, open_input, read_rows

CSV = 'ExternalUserId,EMAIL,Phone\r\nu1,a@example.com,123\r\n\r\nu2,"b,c@example.com",456\r\nu3,only-two\r\n'


def rows_of(data: bytes, *, json_lines: bool = False) -> list[object]:
    return list(read_rows(io.BytesIO(data), json_lines=json_lines))


def test_csv_header_is_case_insensitive_and_quoted_commas_survive() -> None:
    rows = rows_of(CSV.encode())
    assert rows[0] == {"externaluserid": "u1", "email": "a@example.com", "phone": "123"}
    assert rows[1] == {"externaluserid": "u2", "email": "b,c@example.com", "phone": "456"}
    assert isinstance(rows[2], MalformedRow) and "expected 3 columns" in rows[2].reason
    assert len(rows) == 3  # blank line ignored


def test_utf8_bom_is_dropped() -> None:
    rows = rows_of(("\ufeff" + CSV).encode())
    assert "externaluserid" in rows[0]  # type: ignore[operator]


def test_json_lines_with_bad_lines() -> None:
    data = b'{"externalUserId": "u1", "email": "a@example.com", "zip": 98101}\n\nnot json\n[1,2]\n{"EMAIL": null}\n'
    rows = rows_of(data, json_lines=True)
    assert rows[0] == {"externaluserid": "u1", "email": "a@example.com", "zip": "98101"}
    assert rows[1] == MalformedRow(3, "not valid JSON")
    assert rows[2] == MalformedRow(4, "not a JSON object")
    assert rows[3] == {"email": ""}


def test_gzip_is_detected_by_content(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"  # no .gz suffix on purpose
    path.write_bytes(gzip.compress(CSV.encode()))
    with open_input(str(path)) as stream:
        assert len(list(read_rows(stream, json_lines=False))) == 3


def test_plain_file_is_read_as_is(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes(CSV.encode())
    with open_input(str(path)) as stream:
        assert next(iter(read_rows(stream, json_lines=False))) == {
            "externaluserid": "u1",
            "email": "a@example.com",
            "phone": "123",
        }


def test_format_from_name() -> None:
    assert is_json_lines("x.jsonl") and is_json_lines("x.ndjson.gz") and is_json_lines("X.JSON")
    assert not is_json_lines("x.csv.gz")


HEADER = "\ufeffExternalUserId,EMAIL,note\r\n".encode()
DATA = [
    b"u1,a@example.com,plain\r\n",
    'u2,b@example.com,"two\r\nlines, ünïcødé"\r\n'.encode(),  # a quoted newline: one row, two lines
    b"\r\n",  # blank: counted with the row after it
    "u3,c@example.com,日本語 🙂\r\n".encode(),
    b"u4,only-two\r\n",
    b'u5,d@example.com,"x\ny\n"\n',
    b"u6,e@example.com,bad\xff\xe2\x82 bytes\n",  # not UTF-8: read as U+FFFD, counted as the bytes they are
]


def positioned(data: bytes, *, json_lines: bool = False, start: int = 0) -> list[tuple[object, int]]:
    reader = read_rows(io.BytesIO(data), json_lines=json_lines, start=start)
    return [(row, reader.offset) for row in reader]


def test_csv_offsets_are_the_data_bytes_through_each_row() -> None:
    read = positioned(HEADER + b"".join(DATA))
    ends = [sum(len(line) for line in DATA[: i + 1]) for i in range(len(DATA))]
    assert [offset for _, offset in read] == ends[:2] + ends[3:]
    assert read[1][0] == {"externaluserid": "u2", "email": "b@example.com", "note": "two\r\nlines, ünïcødé"}
    assert isinstance(read[3][0], MalformedRow)
    assert read[5][0] == {"externaluserid": "u6", "email": "e@example.com", "note": "bad\ufffd\ufffd bytes"}


def resumes(header: bytes, data: bytes, *, json_lines: bool = False) -> None:
    """Reading on from any row's offset (header first) yields the rows after it, with the same offsets."""

    def seen(start: int) -> list[tuple[object, int]]:  # a MalformedRow's line number is the stream's: ignored
        read = positioned(header + data[start:], json_lines=json_lines, start=start)
        return [(row.reason if isinstance(row, MalformedRow) else row, offset) for row, offset in read]

    whole = seen(0)
    for i, (_, offset) in enumerate(whole):
        assert data[offset - 1 : offset] == b"\n" or offset == len(data)
        assert seen(offset) == whole[i + 1 :]


def test_reading_on_from_an_offset_yields_the_rest_with_the_same_offsets() -> None:
    resumes(HEADER, b"".join(DATA))


def test_json_lines_offsets_count_a_bom_blank_lines_and_multibyte_text() -> None:
    lines = ['\ufeff{"externalUserId": "ü1"}\n', "\n", '{"externalUserId": "日本"}\r\n', "not json\n", '{"a": "🙂"}']
    data = "".join(lines).encode()
    read = positioned(data, json_lines=True)
    assert read[0] == ({"externaluserid": "ü1"}, len(lines[0].encode()))
    assert [offset for _, offset in read[1:]] == [len("".join(lines[: i + 1]).encode()) for i in (2, 3, 4)]
    resumes(b"", data, json_lines=True)
