import gzip
import io
from pathlib import Path

import pytest

from adsbridge.export.chunks import plan_chunks
from adsbridge.export.source import (
    NOT_UTF8,
    SPANS_LINES,
    InputError,
    MalformedRow,
    PrefixedStream,
    check_columns,
    header_columns,
    is_json_lines,
    open_input,
    read_rows,
)

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
    data = b'{"externalUserId": "u1", "email": "a@example.com", "postal": 98101}\n\nnot json\n[1,2]\n{"EMAIL": null}\n'
    rows = rows_of(data, json_lines=True)
    assert rows[0] == {"externaluserid": "u1", "email": "a@example.com", "postal": "98101"}
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
    b"u6,e@example.com,bad\xff\xe2\x82 bytes\n",  # not UTF-8: malformed, counted as the bytes they are
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
    assert read[5][0] == MalformedRow(11, NOT_UTF8)  # the file's line: the header and quoted breaks count


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


def stray_quote_file(rows: int) -> tuple[bytes, list[str]]:
    lines = ["externaluserid,firstname,email", 'u1,"Big Jim,jim@x.com']
    lines += [f"u{i},Bob,bob{i}@example.com" for i in range(2, rows)]
    lines += [f'u{rows},"Al",al@x.com', f"u{rows + 1},Cy,cy@x.com"]
    return ("\n".join(lines) + "\n").encode(), lines


def test_a_stray_quote_counts_every_line_it_swallows_and_joins_no_rows() -> None:
    data, lines = stray_quote_file(500)
    reader = read_rows(io.BytesIO(data), json_lines=False)
    rows = list(reader)
    assert len(rows) == len(lines) - 1  # one item a data line: nothing vanishes uncounted
    assert rows[:-1] == [MalformedRow(n, SPANS_LINES) for n in range(2, 502)]
    assert rows[-1] == {"externaluserid": "u501", "firstname": "Cy", "email": "cy@x.com"}
    assert reader.offset == len(data) - len(lines[0]) - 1
    assert not any("@" in row.reason for row in rows if isinstance(row, MalformedRow))


def test_a_stray_quote_past_the_csv_field_limit_is_counted_and_reading_goes_on() -> None:
    data, lines = stray_quote_file(6_000)  # ~180 KB inside one field: _csv.Error "field larger than field limit"
    reader = read_rows(io.BytesIO(data), json_lines=False)
    rows = list(reader)
    assert len(rows) == len(lines) - 1
    assert rows[0] == MalformedRow(2, "not CSV")
    assert rows[-1] == {"externaluserid": "u6001", "firstname": "Cy", "email": "cy@x.com"}
    assert reader.offset == len(data) - len(lines[0]) - 1


def test_a_line_break_in_an_identifier_makes_every_line_of_the_record_malformed() -> None:
    data = b'externaluserid,email,address\nu1,"a@\nexample.com",x\nu2,b@example.com,"1 Main St\nApt 5"\n'
    assert rows_of(data) == [
        MalformedRow(2, SPANS_LINES),
        MalformedRow(3, SPANS_LINES),
        {"externaluserid": "u2", "email": "b@example.com", "address": "1 Main St\nApt 5"},  # an address may
    ]
    stray_note = b'externaluserid,email,note\nu1,a@example.com,"oops\nu2,b@example.com,x\nu3,c@example.com,"y",z\n'
    assert rows_of(stray_note) == [MalformedRow(n, SPANS_LINES) for n in (2, 3, 4)]  # wrong width: all counted


def test_a_quote_left_open_at_the_end_of_the_file_is_a_malformed_line() -> None:
    rows = rows_of(b'externaluserid,email\nu1,a@example.com\nu2,"b@example.com\n')
    assert rows == [{"externaluserid": "u1", "email": "a@example.com"}, MalformedRow(3, SPANS_LINES)]


def test_chunks_read_a_stray_quote_file_as_the_whole_file_does() -> None:
    stray, _ = stray_quote_file(300)
    data = stray[:31] + b"".join(f'v{i},"Dee, Jr",dee{i}@example.com\n'.encode() for i in range(300)) + stray[31:]
    whole = [row if isinstance(row, dict) else row.reason for row in rows_of(data)]
    plan = plan_chunks("in.csv", len(data), lambda start, end: data[start:end], chunk_bytes=500)
    assert len(plan.chunks) > 1
    chunked: list[object] = []
    for chunk in plan.chunks:
        body = io.BytesIO(data[chunk.start : chunk.end])
        stream = io.BufferedReader(PrefixedStream(plan.layout.header.encode(), body))
        chunked += [row if isinstance(row, dict) else row.reason for row in read_rows(stream, json_lines=False)]
    assert chunked == whole and len(whole) == 601


def test_latin1_lines_are_malformed_not_rows_with_bytes_dropped() -> None:
    data = "externaluserid,lastname,email\nu1,Müller,josé@x.com\nu2,Smith,s@x.com\n".encode("latin-1")
    assert rows_of(data) == [
        MalformedRow(2, NOT_UTF8),
        {"externaluserid": "u2", "lastname": "Smith", "email": "s@x.com"},
    ]
    cp1252 = '{"externalUserId": "u1", "lastname": "Müller"}\n{"externalUserId": "u2"}\n'.encode("cp1252")
    assert rows_of(cp1252, json_lines=True) == [MalformedRow(1, NOT_UTF8), {"externaluserid": "u2"}]


def test_json_integral_floats_are_integers_and_fractional_identifiers_are_malformed() -> None:
    data = (
        b'{"externalUserId": "u1", "phone": 4138714499.0, "postal": 2134.0, "countrycode": 0.5}\n{"phone": 41387.5}\n'
    )
    assert rows_of(data, json_lines=True) == [
        {"externaluserid": "u1", "phone": "4138714499", "postal": "2134", "countrycode": "0.5"},
        MalformedRow(2, "a non-integral number in an identifier field"),
    ]


NOT_TEXT = "an object, array or boolean where text was expected"


def test_json_objects_arrays_and_booleans_are_malformed_never_stringified() -> None:
    data = (
        b'{"externalUserId": "u1", "email": {"address": "a@example.com"}}\n'
        b'{"externalUserId": "u2", "phone": [4138714499]}\n'
        b'{"externalUserId": "u3", "firstname": true}\n'
        b'{"externalUserId": ["u4"], "email": "a@example.com"}\n'
        b'{"externalUserId": "u5", "tcf": false}\n'
        b'{"externalUserId": "u6", "email": "a@example.com", "tags": ["vip"], "opt_in": true, "meta": {"a": 1}}\n'
    )
    assert rows_of(data, json_lines=True) == [
        *(MalformedRow(number, NOT_TEXT) for number in range(1, 6)),
        {"externaluserid": "u6", "email": "a@example.com"},  # columns the export does not read are dropped unread
    ]


def test_one_broken_json_record_is_one_malformed_row_and_reading_goes_on() -> None:
    data = (
        b'{"externalUserId": "u1", "email": "\\ud800@example.com"}\n'  # a lone surrogate: valid JSON, not text
        b'{"externalUserId": "u2", "lastname": "M\\udc00ller"}\n'
        + b'{"externalUserId": "u3", "phone": '
        + b"9" * 5000
        + b"}\n"  # past Python's int digit limit
        + b'{"externalUserId": "u4", "note": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}\n"  # nested too deep
        + b'{"externalUserId": "u5", "email": "\\ud83d\\ude00@example.com", "note": "\\udfff"}\n'  # a pair is text
    )
    assert rows_of(data, json_lines=True) == [
        MalformedRow(1, "a lone surrogate, not text"),
        MalformedRow(2, "a lone surrogate, not text"),
        MalformedRow(3, "not valid JSON"),
        MalformedRow(4, "not valid JSON"),
        {"externaluserid": "u5", "email": "\U0001f600@example.com"},
    ]


def test_a_header_needs_an_external_user_id_and_a_pii_column() -> None:
    check_columns(header_columns("ExternalUserId, EMAIL ,note\r\n"))  # matched as rows are: stripped, lower-cased
    check_columns(None)  # JSON lines: no header
    check_columns([])  # an empty input
    with pytest.raises(InputError) as caught:
        check_columns(header_columns("External User ID,E-mail\n"))
    assert str(caught.value) == (
        "input: no externaluserid column; no PII column (email, phone, firstname, lastname, address, city, state,"
        " postal); read as comma-separated; did you mean external user id → externaluserid, e-mail → email"
        " (found: external user id, e-mail)"
    )
    with pytest.raises(InputError, match=r"^input: no PII column \(email, .*\(found: externaluserid, e-mail\)$"):
        check_columns(header_columns("externalUserId,E-mail\n"))


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("externalUserId;Email;Phone\n", "it looks semicolon-separated, but only commas separate columns"),
        ("ExternalUserId\tEmail\n", "it looks tab-separated"),
        ('{"externalUserId": "u1", "email": "jane@example.com"}\n', "the first line looks like JSON"),
        ("u1;Jane;jane@example.com\n", "3 column(s), none a known name: is the header row missing?"),
    ],
)
def test_a_header_with_another_delimiter_or_json_is_named_so(line: str, said: str) -> None:
    with pytest.raises(InputError) as caught:
        check_columns(header_columns(line))
    assert said in str(caught.value)
    assert "jane" not in str(caught.value).lower()


def test_a_missing_header_row_is_named_without_echoing_the_data() -> None:
    with pytest.raises(InputError) as caught:
        check_columns(header_columns("u1,Jim,jim@x.com,4138714499\n"))
    assert "header row missing" in str(caught.value)
    assert "jim" not in str(caught.value).lower() and "4138" not in str(caught.value)


def test_a_header_that_is_not_utf8_is_named() -> None:
    reader = read_rows(io.BytesIO("externaluserid,email\nu1,a@b.com\n".encode("utf-16")), json_lines=False)
    with pytest.raises(InputError, match="not UTF-8"):
        check_columns(reader.columns)
