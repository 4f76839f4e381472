"""A phone written as a JSON number is the phone its digits make in a CSV cell, from reading to record."""

from __future__ import annotations

import hashlib
import io
import json

import pytest

from adsbridge.export.records import RecordBuilder, Skip
from adsbridge.export.source import read_rows
from adsbridge.settings import parse_settings

BUILDER = RecordBuilder(
    parse_settings(
        {
            "amc_instance_id": "amc1",
            "country_code": "US",
            "external_audience_id": "e",
            "audience_name": "phones as numbers",
        }
    )
)


def _built(data: bytes, *, json_lines: bool) -> bytes | Skip:
    (row,) = read_rows(io.BytesIO(data), json_lines=json_lines)
    assert isinstance(row, dict), row
    return BUILDER.build(row)


@pytest.mark.parametrize(
    ("number", "digits", "e164"),
    [
        ("12065550100", "12065550100", "12065550100"),
        ("2065550100", "2065550100", "12065550100"),
        ("2065550100.0", "2065550100", "12065550100"),  # pandas writes an int column with gaps as floats
        ("9011534546", "9011534546", "19011534546"),
        ("5551234", "5551234", None),  # no area code: dialable only locally, matches no one
        ("1877095605", "1877095605", None),  # no North American area code starts with 1
    ],
)
def test_json_number_phone_is_the_csv_digits(number: str, digits: str, e164: str | None) -> None:
    from_json = _built(f'{{"externaluserid": "u1", "phone": {number}}}\n'.encode(), json_lines=True)
    from_csv = _built(f"externaluserid,phone\nu1,{digits}\n".encode(), json_lines=False)
    assert from_json == from_csv
    if e164 is None:
        assert from_json == "no_usable_identifier"
    else:
        assert isinstance(from_json, bytes)
        assert json.loads(from_json)["hashedPII"] == [{"phone": hashlib.sha256(e164.encode()).hexdigest()}]
