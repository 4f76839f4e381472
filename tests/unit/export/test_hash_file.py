"""``hash_csv``: columns, overrides, counts, streaming, parallel parity (the command: ``test_hash_cli.py``)."""

from __future__ import annotations

import csv
import hashlib
import io

import pytest

from adsbridge.export import hash_file
from adsbridge.export.hash_file import HashStats, InputError, hash_csv


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def run(text: str, country: str = "US", normalized_only: bool = False, workers: int = 1) -> tuple[str, HashStats]:
    out = io.StringIO()
    stats = hash_csv(
        io.StringIO(text, newline=""), out, country=country, normalized_only=normalized_only, workers=workers
    )
    return out.getvalue(), stats


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


SAMPLE = (
    "ExternalUserId,EMAIL,Phone,FirstName,lastname,Address,city,STATE,postal,CountryCode,segment\n"
    "u1,John.Doe+x@Example.com,571-981-5803,José,Müller,100 North Main Street,München,Texas,75236-9599,,gold\n"
    "u2,,+44 20 7946 0958,,,,,,SW1A 1AA,uk,silver\n"
    "u3,not-an-email,12345,,,,,,1234,US,\n"
)


def test_pii_columns_hashed_by_case_insensitive_header_others_untouched() -> None:
    out, stats = run(SAMPLE)
    header, first, second, third = rows(out)
    assert header == rows(SAMPLE)[0]  # header unchanged, same order
    assert first == [
        "u1",
        sha("john.doex@example.com"),
        sha("15719815803"),
        sha("jos"),
        sha("mueller"),
        sha("100nmainst"),
        sha("mnchen"),
        sha("tx"),
        sha("75236"),
        "",
        "gold",
    ]
    assert second[0] == "u2" and second[9] == "uk" and second[10] == "silver"
    assert second[1] == "" and second[3:8] == ["", "", "", "", ""]  # empty stays empty
    assert second[2] == sha("442079460958")
    assert second[8] == sha("SW1A1AA")  # countrycode uk → GB postal rule
    assert third[1:3] == ["", ""] and third[8] == ""  # invalid → empty
    assert stats.rows == 3
    assert stats.invalid == {
        "email": 1,
        "phone": 1,
        "firstname": 0,
        "lastname": 0,
        "address": 0,
        "city": 0,
        "state": 0,
        "postal": 1,
    }
    assert stats.pii_columns == ("email", "phone", "firstname", "lastname", "address", "city", "state", "postal")


def test_countrycode_overrides_the_default_country() -> None:
    text = "postal,countrycode\nSW1A 1AA,GB\nSW1A 1AA,\n75236-9599,\n75236-9599,gb\n"
    out, _ = run(text, country="US")
    assert [row[0] for row in rows(out)[1:]] == [sha("SW1A1AA"), "", sha("75236"), ""]
    out, _ = run(text, country="GB")
    assert [row[0] for row in rows(out)[1:]] == [sha("SW1A1AA"), sha("SW1A1AA"), "", ""]


def test_unknown_countrycode_uses_the_default_and_is_counted() -> None:
    out, stats = run("phone,countrycode\n5714120599,Narnia\n5714120599,  \n", country="US")
    assert [row[0] for row in rows(out)[1:]] == [sha("15714120599")] * 2
    assert stats.unknown_country == 1  # blank is "no override", not unknown
    assert "unknown countrycode" in stats.summary()


def test_normalized_only_writes_the_normal_forms() -> None:
    out, _ = run(SAMPLE, normalized_only=True)
    first = rows(out)[1]
    assert first[1:9] == [
        "john.doex@example.com",
        "15719815803",
        "jos",
        "mueller",
        "100nmainst",
        "mnchen",
        "tx",
        "75236",
    ]


def test_prehashed_cells_pass_through_lowercased() -> None:
    digest = sha("abc@example.com")
    out, _ = run(f"email,phone\n{digest.upper()},{digest}\n")
    assert rows(out)[1] == [digest, digest]
    out, _ = run(f"email\n{digest.upper()}\n", normalized_only=True)
    assert rows(out)[1] == [digest]


def test_quoted_fields_short_rows_and_no_pii_columns() -> None:
    text = 'address,note,email\n"1 Main St, Apt #5","two\nlines",a@b.co\n"9 Elm Way"\n'
    out, stats = run(text)
    assert rows(out) == [
        ["address", "note", "email"],
        [sha("1mainstaptnumber5"), "two\nlines", sha("a@b.co")],
        [sha("9elmway")],
    ]
    assert stats.rows == 2


def test_a_prehashed_empty_string_is_an_empty_cell_not_an_invalid_one() -> None:
    # sha256("") is what some tools write for a blank cell; passed through, it would match no one
    out, stats = run(f"email,phone,city\n{sha('')},{sha('').upper()},{sha('')}\n")
    assert rows(out)[1] == ["", "", ""]
    assert set(stats.invalid.values()) == {0}
    out, _ = run(f"email\n {sha('')} \n", normalized_only=True)
    assert rows(out)[1] == [""]


DATA = ("jane", "doe", "5551234", "seattle", "jim", "lee", "gold")  # no message may hold any of these


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("email;phone\njane@example.com;5551234567\n", ["semicolon-separated", "found: email, phone"]),
        ("Email\tPhone\tFirst Name\njane@example.com\t5551234567\tJane\n", ["tab-separated", "First Name"]),
        (
            "e-mail,first_name,tier\njane@example.com,Jane,gold\n",
            ["did you mean e-mail → email, first_name → firstname"],
        ),
        ("phone,E-Mail\n5551234567,jane@example.com\n", ["written out unhashed", "E-Mail → email"]),
        ('{"email": "jane@example.com", "firstname": "Jane"}\n', ["looks like JSON"]),
        ("u1,Jane,Doe,jane@example.com,5551234567\n", ["5 column(s), none a known name", "header row missing"]),
        ("Jim,Lee,Seattle\n", ["3 column(s), none a known name"]),
        ("id,tier\n1,gold\n", ["no PII column", "found: id and 1 other column(s)"]),
    ],
)
def test_a_header_without_recognised_pii_columns_writes_nothing(text: str, said: list[str]) -> None:
    out = io.StringIO()
    with pytest.raises(InputError) as caught:
        hash_csv(io.StringIO(text, newline=""), out, country="US", normalized_only=False)
    message = str(caught.value)
    assert out.getvalue() == ""
    assert "read as comma-separated" in message and "email, phone, firstname, lastname" in message
    for words in said:
        assert words in message
    assert not [word for word in DATA if word in message.lower()]


def test_empty_input_gives_empty_output() -> None:
    assert run("") == ("", HashStats())


def test_malformed_input_names_the_line_not_the_content() -> None:
    huge = "leaked" * 30_000  # longer than csv's field size limit
    with pytest.raises(InputError, match=r"malformed CSV \(field larger than field limit.*line 3") as caught:
        run(f"email\nsecret@example.com\n{huge}@example.com\n")
    assert "leaked" not in str(caught.value) and "secret" not in str(caught.value)


TRICKY = (
    "externalUserId,email,phone,address,note,countrycode\r\n"
    + "".join(
        f'u{i},User{i}@Example.com,{5714120000 + i},"{i} North Main St, Apt #{i % 7}",'
        f'"multi\r\nline ""{i}""",{["US", "gb", "", "DE", "XX"][i % 5]}\r\n'
        f"u{i}b,plain{i}@x.org,+44 20 7946 {i:04d},{i}-B Elm St,5'11\" tall,\r\n"
        "\r\n"
        for i in range(40)
    )
    + 'u-last,"bad,email",n/a,"Flat 1\nBlock ""C""",,uk'
)


@pytest.mark.parametrize(
    ("normalized_only", "platform"), [(False, "linux"), (True, "linux"), (False, "darwin")]
)  # darwin: spawned workers, which import everything afresh
def test_parallel_output_is_byte_identical(
    monkeypatch: pytest.MonkeyPatch, normalized_only: bool, platform: str
) -> None:
    monkeypatch.setattr(hash_file, "_BLOCK_ROWS", 7)  # many blocks, cut between awkward records
    monkeypatch.setattr(hash_file.sys, "platform", platform)
    serial = run(TRICKY, normalized_only=normalized_only)
    parallel = run(TRICKY, normalized_only=normalized_only, workers=2)
    assert parallel[0] == serial[0]
    assert parallel[1] == serial[1]
    assert serial[1].rows == 121 and serial[1].unknown_country == 8


def test_parallel_small_input_stays_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*args: object, **kwargs: object) -> int:
        raise AssertionError("started workers for a small input")

    monkeypatch.setattr(hash_file, "_run_parallel", no_pool)
    assert run(SAMPLE, workers=4) == run(SAMPLE)


def test_parallel_malformed_input_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hash_file, "_BLOCK_ROWS", 2)
    text = "email\n" + "a@b.co\n" * 9 + "x" * 200_000 + "@b.co\n" + "a@b.co\n" * 5
    with pytest.raises(InputError, match="line 11"):
        run(text, workers=2)


def test_blocks_hold_whole_records(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hash_file, "_BLOCK_ROWS", 2)
    lines = hash_file._Lines(io.StringIO('a,"b\nc"\nd\n"e\n\nf",g\nh\n', newline=""))
    assert [(block, records) for block, _, records in lines.blocks()] == [
        (['a,"b\n', 'c"\n', "d\n"], 2),
        (['"e\n', "\n", 'f",g\n', "h\n"], 2),
    ]
