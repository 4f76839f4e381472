"""``adsbridge hash`` and a column holding a whole name (``Full Name``): PII it cannot hash as one field, which
other columns' pass-through would copy out raw beside the hashed ones."""

from __future__ import annotations

import io

import pytest

from adsbridge.hash_file import InputError, hash_csv


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
