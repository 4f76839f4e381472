"""Input that is damaged or hostile: truncated or corrupt gzip, unreadable S3 objects, NUL bytes, repeated
header names and headerless files. Each names its problem as an ``InputError`` (or counts a malformed row)
and never echoes a data line.
"""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, NoCredentialsError, ParamValidationError

from adsbridge.export.source import (
    InputError,
    MalformedRow,
    check_columns,
    header_columns,
    open_input,
    read_rows,
)

HEADER = b"externaluserid,email,countrycode\n"


def gzipped_rows(n: int) -> bytes:
    return gzip.compress(HEADER + b"".join(b"u%d,u%d@example.com,US\n" % (i, i) for i in range(n)))


def read_all(uri: str, **kwargs: Any) -> tuple[list[Any], InputError | None]:
    """Every row read before the input ended or failed, and the failure."""
    got: list[Any] = []
    try:
        with open_input(uri, **kwargs) as stream:
            got.extend(read_rows(stream, json_lines=False))
    except InputError as exc:
        return got, exc
    return got, None


def test_a_truncated_gzip_yields_its_whole_rows_then_names_the_truncation(tmp_path: Path) -> None:
    data = gzipped_rows(20_000)
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    rows, error = read_all(str(path))
    assert (
        error is not None
        and str(error) == f"input: {path} is a truncated gzip file (it ends before the gzip end marker)"
    )
    assert 0 < len(rows) < 20_000
    assert all(row == {"externaluserid": f"u{i}", "email": f"u{i}@example.com", "countrycode": "US"}
               for i, row in enumerate(rows))  # fmt: skip
    # whole rows only: the line the file was cut in the middle of is not a row


@pytest.mark.parametrize("where", ["crc", "deflate"])
def test_a_corrupt_gzip_is_named(tmp_path: Path, where: str) -> None:
    data = bytearray(gzipped_rows(2_000))
    if where == "crc":
        data[-8] ^= 0xFF  # the CRC-32 in the trailer
    else:
        data[20:40] = b"\xff" * 20  # deflate blocks that do not inflate
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(bytes(data))
    _, error = read_all(str(path))
    assert error is not None and str(error).startswith(f"input: {path} is a corrupt gzip file (")


class FailingS3:
    """An S3 client whose every GET fails as boto3 fails: a service error or no credentials at all."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def get_object(self, **_: str) -> dict[str, Any]:
        raise self.error


def client_error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "GetObject")


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (client_error("NoSuchKey", "The specified key does not exist."),
         "NoSuchKey (The specified key does not exist.)"),
        (client_error("AccessDenied", "Access Denied"), "AccessDenied (Access Denied)"),
        (NoCredentialsError(), "Unable to locate credentials"),
        (client_error("403", "Forbidden"), "AccessDenied (Forbidden)"),
        (ParamValidationError(report='Invalid bucket name "B!":\nBucket name must match'),
         'Parameter validation failed: Invalid bucket name "B!": Bucket name must match'),
    ],
    ids=["missing key", "access denied", "no credentials", "403 without a body", "bad bucket name"],
)  # fmt: skip
def test_an_unreadable_s3_object_is_named(error: Exception, reason: str) -> None:
    _, failure = read_all("s3://drops/in/customers.csv", s3_client=FailingS3(error))
    assert failure is not None and str(failure) == f"input: cannot read s3://drops/in/customers.csv: {reason}"


class BrokenBody:
    """An S3 body whose connection drops once ``data`` has been read."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1) -> bytes:
        if not self.data:
            raise client_error("InternalError", "We encountered an internal error.")
        size = len(self.data) if size < 0 else size
        chunk, self.data = self.data[:size], self.data[size:]
        return chunk

    def close(self) -> None:
        pass


class BodyS3:
    def __init__(self, body: BrokenBody) -> None:
        self.body = body

    def get_object(self, **_: str) -> dict[str, Any]:
        return {"Body": self.body}


def test_an_s3_read_failing_midway_is_named_after_the_rows_before_it() -> None:
    body = BrokenBody(HEADER + b"u1,a@example.com,US\nu2,b@exa")
    rows, failure = read_all("s3://drops/customers.csv", s3_client=BodyS3(body))
    assert rows == [{"externaluserid": "u1", "email": "a@example.com", "countrycode": "US"}]
    assert (
        str(failure)
        == "input: reading s3://drops/customers.csv failed: InternalError (We encountered an internal error.)"
    )


def test_a_row_with_a_nul_byte_is_one_malformed_row() -> None:
    data = HEADER + b"u1,a@example.com,US\nu2,b\x00@example.com,US\nu3,c@example.com,US\n"
    rows = list(read_rows(io.BytesIO(data), json_lines=False))
    assert [type(row) for row in rows] == [dict, MalformedRow, dict]
    assert rows[1] == MalformedRow(3, "a NUL byte (binary data, not text)")


def test_a_header_naming_a_column_twice_is_refused_naming_it() -> None:
    with pytest.raises(InputError) as caught:
        check_columns(header_columns("externalUserId,Email,phone, EMAIL \n"))
    assert str(caught.value) == "input: the header names column email twice (columns 2 and 4)"
    check_columns(header_columns("externalUserId,email,,\n"))  # empty names (trailing commas) are no column


def test_a_repeated_name_that_may_be_data_is_named_by_position() -> None:
    with pytest.raises(InputError) as caught:
        check_columns(header_columns("externaluserid,email,Jim,Jim\n"))
    assert str(caught.value) == "input: the header names column 4 twice (columns 3 and 4)"


@pytest.mark.parametrize("line", ["Jim,Lee,Seattle,WA\n", "Ann;Lee;98101\n", "u1,Jim,jim@x.com,4138714499\n"])
def test_a_headerless_file_never_echoes_its_first_line(line: str) -> None:
    with pytest.raises(InputError) as caught:
        check_columns(header_columns(line))
    message = str(caught.value)
    assert "is the header row missing?" in message
    for value in ("jim", "lee", "seattle", "ann", "98101", "4138"):
        assert value not in message.lower()


def test_only_names_the_export_reads_are_echoed() -> None:
    with pytest.raises(InputError) as caught:
        check_columns(header_columns("Customer Ref,E-mail,Jim\n"))
    assert str(caught.value).endswith("(found: e-mail and 2 other column(s))")


@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.5, 0.8, 0.999])
def test_a_truncated_gzip_yields_every_whole_row_before_the_cut(tmp_path: Path, fraction: float) -> None:
    """Every row zlib can inflate from the bytes before the cut is read, not only those of whole read blocks:
    the README promises the rows before the damage are uploaded, and the report counts them."""
    data = gzipped_rows(20_000)
    cut = data[: int(len(data) * fraction)]
    inflatable = zlib.decompressobj(wbits=31).decompress(cut)
    whole_rows = inflatable.count(b"\n") - 1  # the header line; the line cut in the middle is no row
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(cut)
    rows, error = read_all(str(path))
    assert error is not None and "truncated gzip" in str(error)
    assert len(rows) == whole_rows
    assert rows[-1] == {"externaluserid": f"u{whole_rows - 1}", "email": f"u{whole_rows - 1}@example.com",
                        "countrycode": "US"}  # fmt: skip


def test_bytes_after_the_gzip_data_are_named_without_quoting_them(tmp_path: Path) -> None:
    path = tmp_path / "tail.csv.gz"
    path.write_bytes(gzipped_rows(10) + b"jim@example.com,Jim Lee\n")
    rows, error = read_all(str(path))
    assert len(rows) == 10
    assert error is not None and str(error).startswith(f"input: {path} is a corrupt gzip file (")
    assert "jim" not in str(error).lower()


@pytest.mark.parametrize(
    "line",
    [
        b'{"externalUserId": "u2", "email": "b\\u0000@example.com"}\n',  # an escaped NUL: binary, as in a CSV
        b'{"externalUserId": "u2", "email": "b@example.com", "Email": "c@example.com"}\n',  # one column twice
        b'{"externalUserId": "u2", "email": "b@example.com", "email": "c@example.com"}\n',
    ],
    ids=["escaped NUL", "a column twice in another case", "a key twice"],
)
def test_a_json_line_a_csv_would_refuse_is_one_malformed_row(line: bytes) -> None:
    """A JSON-lines record is held to the CSV's rules: a NUL is binary data, and a column given twice would
    have one value silently replace the other (in a CSV header, the whole file is refused)."""
    data = b'{"externalUserId": "u1", "email": "a@example.com"}\n' + line
    rows = list(read_rows(io.BytesIO(data), json_lines=True))
    assert rows[0] == {"externaluserid": "u1", "email": "a@example.com"}
    assert len(rows) == 2 and isinstance(rows[1], MalformedRow) and rows[1].line == 2
    assert "example.com" not in rows[1].reason


@pytest.mark.parametrize(
    ("header", "hint"),
    [
        ("externalUserId,E-Mail,phone\n", "e-mail → email"),
        ("externalUserId,email,first_name,Last Name\n", "first_name → firstname, last name → lastname"),
        ("externalUserId,email,zip\n", "zip → postal"),
    ],
)
def test_a_column_the_export_would_ignore_under_another_name_is_refused(header: str, hint: str) -> None:
    """With another PII column present, ``E-Mail`` was ignored without a word and the audience built from
    phones alone: the spelling is refused before anything is created, as ``adsbridge hash`` refuses it."""
    with pytest.raises(InputError) as caught:
        check_columns(header_columns(header))
    assert f"did you mean {hint}" in str(caught.value)


def test_a_spelling_beside_the_column_it_spells_is_no_problem() -> None:
    check_columns(header_columns("externalUserId,id,email,E-mail,zip,postal\n"))  # each name it means is there


@pytest.mark.parametrize(
    ("number", "text"),
    [
        ("9007199254740993.0", "9007199254740993"),  # 2^53 + 1: a double rounds it to 2^53
        ("361054992504331123.0", "361054992504331123"),
        ("3.61054992504331123e17", "361054992504331123"),
        ("4138714499.0", "4138714499"),
    ],
)
def test_a_json_number_written_with_a_fraction_keeps_every_digit(number: str, text: str) -> None:
    """pandas writes an integer column with gaps as ``4138714499.0``; read as a double, an id or phone past 2^53
    became another one (9007199254740993.0 → 9007199254740992), hashed and sent as if it were the person's."""
    data = b'{"externalUserId": %s, "phone": %s}\n' % (number.encode(), number.encode())
    (row,) = read_rows(io.BytesIO(data), json_lines=True)
    assert row == {"externaluserid": text, "phone": text}


@pytest.mark.parametrize("number", ["1e400", "1e999999999", "-0.5e3000"])
def test_a_json_number_no_identifier_could_be_is_one_malformed_row(number: str) -> None:
    (row,) = read_rows(io.BytesIO(b'{"externalUserId": "u1", "phone": %s}\n' % number.encode()), json_lines=True)
    assert isinstance(row, MalformedRow)
