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
