"""``adsbridge hash`` and a column holding a whole name (``Full Name``): PII it cannot hash as one field, which
other columns' pass-through would copy out raw beside the hashed ones."""

from __future__ import annotations

import hashlib
import io

import pytest

from adsbridge.export.hash_file import InputError, hash_csv


@pytest.mark.parametrize("name", ["Full Name", "name", "Customer_Name", "CONTACT NAME"])
def test_a_whole_name_column_is_refused_and_nothing_is_written(name: str) -> None:
    out = io.StringIO()
    text = f"externalUserId,email,{name},tier\nu1,jane@example.com,Jane Doe,gold\n"
    with pytest.raises(InputError) as caught:
        hash_csv(io.StringIO(text, newline=""), out, country="US", normalized_only=False)
    message = str(caught.value)
    assert out.getvalue() == ""
    assert f"{name} holds a whole name: split it into firstname and lastname" in message
    assert "jane" not in message.lower() and "doe" not in message.lower()


def test_a_first_and_last_name_beside_other_columns_pass() -> None:
    out = io.StringIO()
    hash_csv(io.StringIO("firstname,lastname,nickname\nJane,Doe,JD\n", newline=""), out, country="US",
             normalized_only=False)  # fmt: skip
    assert out.getvalue().splitlines()[0] == "firstname,lastname,nickname"


@pytest.mark.parametrize("workers", [1, 2])
def test_a_row_with_more_cells_than_the_header_is_refused_not_copied_out(workers: int) -> None:
    """``Doe, Jane`` unquoted shifts a row: the cells past the header's last column had no rule and were
    written out raw, an e-mail address or a phone number among them."""
    rows = "".join(f"u{i},h{i}@example.com\n" for i in range(5_000))  # past one worker block
    text = f"externalUserId,email\n{rows}u9,jane@example.com,Jane Doe,2065550143\n"
    out = io.StringIO()
    with pytest.raises(InputError) as caught:
        hash_csv(io.StringIO(text, newline=""), out, country="US", normalized_only=False, workers=workers)
    assert "more cells than the header" in str(caught.value)
    assert "Jane Doe" not in out.getvalue() and "2065550143" not in out.getvalue()
    assert "jane" not in str(caught.value).lower()


def test_empty_cells_past_the_header_are_no_problem() -> None:
    out = io.StringIO()
    hash_csv(io.StringIO("email\na@example.com,,\n", newline=""), out, country="US", normalized_only=False)
    assert out.getvalue().splitlines()[1] == hashlib.sha256(b"a@example.com").hexdigest() + ",,"
