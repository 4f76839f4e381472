"""One test per rule and quirk of the reference normalisers, field by field and country by country."""

from __future__ import annotations

import hashlib

import pytest

from adsbridge.identity import PII_FIELDS, hash_pii, normalize, normalizer_for


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- email -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("abc@example.com", "abc@example.com"),
        ("  John.Doe+Test@Example.COM ", "john.doetest@example.com"),  # + removed, tag kept, spaces gone
        ("first_last-1@sub.example.co.uk", "first_last-1@sub.example.co.uk"),
        ("JÖRG@beispiel.de", "jörg@beispiel.de"),  # \w is Unicode: letters survive, untransliterated
        ("a(b)c@d!e.com", "abc@de.com"),
        ("x@y", "x@y"),
        ("a@b@c", "a@b@c"),  # only the first @ is checked, like the reference's unanchored match
    ],
)
def test_email_cleaning(raw: str, expected: str) -> None:
    assert normalize("email", raw, "US") == expected


@pytest.mark.parametrize("raw", ["", "   ", "no-at-sign", "@example.com", "user@", "a@@b", "++@", "@"])
def test_email_invalid_is_omitted(raw: str) -> None:
    assert normalize("email", raw, "US") is None
    assert hash_pii({"email": raw}, "US") == {}


# --- first/last name and city -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Müller", "mueller"),
        ("STRAUß", "strauss"),
        ("Ödegård", "oedegrd"),  # å is not in the list: deleted
        ("Søren", "soren"),
        ("Æsa", "aesa"),
        ("ÄÖÜ", "aeoeue"),  # upper-case umlauts are lowered first, then transliterated
        ("José", "jos"),
        ("O'Neil", "oneil"),
        ("Anne-Marie", "annemarie"),
        ("Le - Count", "lecount"),
        ("Louis XIV 2nd", "louisxiv2nd"),
    ],
)
def test_name_rule(raw: str, expected: str) -> None:
    assert normalize("firstname", raw, "US") == expected
    assert normalize("lastname", raw, "DE") == expected  # not country dependent


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("München", "mnchen"), ("Saint-Étienne", "sainttienne"), ("New York", "newyork"), ("St. Louis", "stlouis")],
)
def test_city_has_no_transliteration(raw: str, expected: str) -> None:
    assert normalize("city", raw, "DE") == expected


@pytest.mark.parametrize("field", ["firstname", "lastname", "city"])
def test_nothing_left_is_omitted(field: str) -> None:
    assert normalize(field, "éèê -'", "FR") is None


# --- state ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("Texas", "US", "tx"),
        ("new york", "US", "ny"),
        ("N.Y.", "US", "ny"),
        ("District of Columbia", "US", "di"),  # not in the map: first two letters
        ("Ontario", "CA", "on"),
        ("Québec", "CA", "qu"),  # É dropped → QUBEC → no map hit → truncation quirk
        ("Quebec", "CA", "qc"),
        ("Île-de-France", "FR", "le"),
        ("Ile-de-France", "FR", "if"),
        ("Bavaria", "DE", "by"),
        ("Bayern", "DE", "ba"),  # the DE map has English names only
        ("Madrid", "ES", "m"),  # one-letter Spanish province codes
        ("Florence", "IT", "fi"),
        ("Gujarat", "IN", "gu"),  # no IN map: truncation
        ("Noord-Holland", "NL", "no"),
    ],
)
def test_state_names_and_truncation(raw: str, country: str, expected: str) -> None:
    assert normalize("state", raw, country) == expected


def test_state_truncation_looks_at_the_raw_length() -> None:
    assert normalize("state", "N Y", "US") == "ny"  # raw length 3: cut to two letters
    assert normalize("state", "A1", "US") == "a"  # raw length 2: no cut, digit dropped
    assert normalize("state", "ABC", "US") == "ab"
    assert normalize("state", "t", "US") == "t"
    assert normalize("state", "12", "US") is None
    assert normalize("state", "TX", "ZZ") == "tx"


# --- postal -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("75236-9599", "US", "75236"),
        (" 02134 ", "US", "02134"),
        ("1234", "US", None),
        ("ABCDE", "US", None),
        ("787-0150", "JP", "7870150"),
        ("787-015", "JP", None),
        ("110001", "IN", "110001"),
        ("११०००१", "IN", "११०००१"),  # Devanagari digits count as digits in the IN rule (reference quirk)
        ("११०००१", "US", None),  # …but not elsewhere
        ("K1A 0B1", "CA", "K1A0B1"),
        ("k1a0b1", "CA", "k1a0b1"),  # case is not changed
        ("K1A 0B1 9", "CA", "K1A0B1"),  # first 6 kept
        ("123456", "CA", None),  # wrong shape
        ("SW1A 1AA", "GB", "SW1A1AA"),
        ("M1 1AE", "GB", "M11AE"),
        ("B33 8TH", "UK", "B338TH"),
        ("EC1A1BBXX", "GB", "EC1A1BB"),  # cut to 7, then the pattern is checked
        ("12345", "GB", None),
        ("SW1A", "GB", None),
        ("10115", "DE", "10115"),
        ("75001", "FR", "75001"),
        ("1234 AB", "NL", None),  # default rule is 5 digits, as in the reference
        ("01310-100", "BR", "01310"),
    ],
)
def test_postal_rules(raw: str, country: str, expected: str | None) -> None:
    assert normalize("postal", raw, country) == expected


# --- address ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("8 Bluestem Terrace", "8bluestemter"),
        ("100 North Main Street Suite 200", "100nmainstste200"),
        ("123 Main St. Apt #5", "123mainstaptnumber5"),
        ("1 NORTHEAST Elm Parkway", "1neelmpkwy"),
        ("5 West Oak Boulevard", "5woakboulevard"),  # the reference list has no BOULEVARD
        ("5 West Oak Boul", "5woakblvd"),
        ("9 Elm Way", "9elmway"),
        ("12 Pine Junction Apartment 4", "12pnejctapt4"),  # PINE is a US suffix too (PNE)
        ("77 Key Lane", "77keyln"),  # KEY: street list says KY, the later unit list says KEY — last wins
        ("3 Green Mdw", "3grnmdws"),  # MDW mapped twice in the US list: the later MDWS wins
        ("No 5 Main St", "number5mainst"),
        ("Num. 5", "number5"),
        ("#12", "number12"),
        ("APT#5", "aptnumber5"),
        ("123-B Main St", "123bmainst"),
        ("12-34 Main St", "12-34mainst"),  # tail is numeric: not split
        ("B-12 Main St", "b-12mainst"),  # head not numeric: not split
        ("Flat 2, 10 Downing St.", "flt210downingst"),  # US: FLAT is a suffix (FLT)
        ("c/o Jane Doe, 5 Elm St", "janedoe5elmst"),
        ("10 (rear) Elm St!", "10rearelmst"),
        ("10 O'Hara St", "10o'harast"),  # ' and / are not removed by the reference
        ("10 1/2 Elm St", "101/2elmst"),
        ("  42   Elm    Street  ", "42elmst"),
    ],
)
def test_us_address(raw: str, expected: str) -> None:
    assert normalize("address", raw, "US") == expected


def test_address_pass_quirks() -> None:
    # both passes visit only as many positions as there were tokens before them
    assert normalize("address", "1-A 2-B", "US") == "1a2-b"
    # the pound pass replaces the whole token by what it matched: the 5 before # is lost
    assert normalize("address", "5#A", "US") == "numbera"
    # a second # in the same token overwrites the part after the first
    assert normalize("address", "A#1#B", "US") == "anumbernumberb"
    # only [0-9A-Z/-] is kept after a #
    assert normalize("address", "#A-B/C", "US") == "numbera-b/c"


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("10 Downing Road", "GB", "10downingrd"),
        ("10 Downing Road", "UK", "10downingrd"),
        ("Flat 3, 5 Abbey Terrace", "GB", "flat35abbeyterrace"),  # GB keeps TERRACE
        ("8 Bluestem Terrace", "CA", "8bluestemterrace"),  # default list has no TERRACE
        ("12 rue de la Paix", "FR", "12ruedelapaix"),
        ("3 Allee des Roses", "FR", "3alléedesroses"),
        ("Hauptstraße 5", "DE", "hauptstrasse5"),  # upper() turns ß into SS
        ("Calle Mayor 5", "ES", "callemayor5"),
        ("Via Roma 10", "IT", "viaroma10"),
        ("1 Main Street", "NL", "1mainst"),  # other countries: default suffixes
        ("1 Main Junction", "NL", "1mainjunction"),
        ("1 Main Junction", "US", "1mainjct"),
    ],
)
def test_address_per_country(raw: str, country: str, expected: str) -> None:
    assert normalize("address", raw, country) == expected


def test_address_of_only_delimiters_is_omitted() -> None:
    assert normalize("address", " , . ! ", "US") is None


# --- phone ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("5714120599", "US", "15714120599"),
        ("+1 (413) 871-4499", "US", "14138714499"),
        ("1-571-412-0599", "US", "15714120599"),
        ("571.412.0599", "us", "15714120599"),
        ("020 7946 0958", "GB", "442079460958"),  # national trunk 0 dropped
        ("+44 20 7946 0958", "US", "442079460958"),  # a leading + keeps its own country code
        ("030 1234567", "DE", "49301234567"),
        ("01 23 45 67 89", "FR", "33123456789"),
        ("06 1234 5678", "IT", "390612345678"),  # Italian leading zero is part of the number
        ("+91 98765 43210", "IN", "919876543210"),
        ("+15714120599", "XX", "15714120599"),  # unknown country: only + numbers parse
        ("00 44 20 7946 0958", "DE", "442079460958"),  # international prefix of the default region
    ],
)
def test_phone_e164_without_plus(raw: str, country: str, expected: str) -> None:
    assert normalize("phone", raw, country) == expected


@pytest.mark.parametrize("raw", ["", "n/a", "12345", "5714120599 5714120599 5714120599", "+999 123"])
def test_phone_invalid_is_omitted(raw: str) -> None:
    assert normalize("phone", raw, "US") is None


def test_phone_without_plus_needs_a_known_country() -> None:
    assert normalize("phone", "5714120599", "XX") is None


@pytest.mark.parametrize(
    ("raw", "country"),
    [
        ("555-1234", "US"),  # no area code: a length the library marks as dialable only locally
        ("(555) 1234", "US"),
        ("5551234", "CA"),
        ("7946 0958", "GB"),  # London number without its 020
        ("946 0958", "GB"),  # seven digits fit no GB number range
        ("187 709 5605", "CA"),  # North American area codes never start with 0 or 1
        ("474-223-1916", "GB"),  # no GB national number starts with 4 or 6
        ("+44 4742 231916", "US"),  # the same, with its country code
        ("+1 055 123 4567", "DE"),
    ],
)
def test_phone_outside_its_countrys_numbering_plan_is_invalid(raw: str, country: str) -> None:
    assert normalize("phone", raw, country) is None


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("9011534546", "US", "19011534546"),  # not an allocated exchange, but Amazon's reference data hashes it
        ("320-260-2601", "DE", "493202602601"),
        ("(212) 555-0143", "US", "12125550143"),
        ("+800 1234 5678", "DE", "80012345678"),  # non-geographic (freephone) code
    ],
)
def test_phone_in_its_countrys_numbering_plan_is_kept_even_if_unallocated(
    raw: str, country: str, expected: str
) -> None:
    assert normalize("phone", raw, country) == expected


# --- pre-hashed, countries, determinism, API -----------------------------------------------------------

DIGEST = sha("abc@example.com")


@pytest.mark.parametrize("field", PII_FIELDS)
def test_prehashed_values_pass_through_lowercased(field: str) -> None:
    assert hash_pii({field: DIGEST}, "US") == {field: DIGEST}
    assert hash_pii({field: DIGEST.upper()}, "US") == {field: DIGEST}
    assert hash_pii({field: f"  {DIGEST.upper()} "}, "DE") == {field: DIGEST}
    assert normalize(field, DIGEST.upper(), "US") == DIGEST


def test_63_or_65_hex_chars_are_not_a_hash() -> None:
    assert hash_pii({"email": DIGEST[:63]}, "US") == {}  # no @: invalid email, not passed through
    assert hash_pii({"firstname": DIGEST + "a"}, "US") == {"firstname": sha(DIGEST + "a")}


def test_hash_pii_is_sha256_of_the_normal_form_and_skips_empty_fields() -> None:
    values: dict[str, str | None] = {
        "email": "John.Doe@Example.com",
        "phone": "(571) 412-0599",
        "firstname": "José",
        "lastname": "",
        "address": "100 North Main Street",
        "city": None,
        "state": "Texas",
        "postal": "1234",
        "externaluserid": "u1",
    }
    assert hash_pii(values, "US") == {
        "email": sha("john.doe@example.com"),
        "phone": sha("15714120599"),
        "firstname": sha("jos"),
        "address": sha("100nmainst"),
        "state": sha("tx"),
    }


def test_country_codes_are_case_insensitive_and_uk_is_gb() -> None:
    assert normalizer_for("gb") is normalizer_for(" UK ") is normalizer_for("GB")
    assert normalizer_for("GB").country == "GB"
    assert normalizer_for("not a country").country == "ZZ"
    assert hash_pii({"postal": "sw1a 1aa"}, "uk") == hash_pii({"postal": "sw1a 1aa"}, "GB")


def test_deterministic_across_calls_and_caches() -> None:
    row = {"firstname": "Zoë", "city": "Köln", "state": "Bavaria", "postal": "80331", "address": "Hauptstr. 1"}
    first = hash_pii(row, "DE")
    for _ in range(3):
        assert hash_pii(dict(row), "de") == first
    assert first["state"] == sha("by")


def test_unknown_field_error_does_not_echo_the_value() -> None:
    with pytest.raises(ValueError, match="unknown PII field 'ssn'") as caught:
        normalize("ssn", "123-45-6789", "US")
    assert "123-45-6789" not in str(caught.value)


@pytest.mark.parametrize(("value", "country"), [("12", "DE"), ("112", "DE"), ("+49 12", "US"), ("5550", "US")])
def test_short_local_only_numbers_are_not_phone_identifiers(value: str, country: str) -> None:
    assert normalize("phone", value, country) is None
