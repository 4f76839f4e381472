"""Hash parity with the Amazon reference test data (AWS uploader ``sample_data``, 1000 rows per country).

Runs only where a git clone of the reference repository (github.com/aws-solutions/amazon-marketing-cloud-
uploader-from-aws) is named by ``ADSBRIDGE_REFERENCE_MIRROR`` (never in CI: its data is not ours to commit);
otherwise the test is skipped with the reason. Phone has its own test: the check files were made from a
phone's digits alone, so they disagree with any reading of a ``+`` (see :func:`phone_parity`).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import os
import random
import re
import subprocess
from pathlib import Path
from typing import Any

import phonenumbers
import pytest

from adsbridge.identity import hash_pii, normalize

MIRROR = Path(os.environ.get("ADSBRIDGE_REFERENCE_MIRROR", "/nonexistent"))
DATA = "source/tests/unit_test/amc_transformation/sample_data"
COUNTRIES = ("US", "CA", "GB", "DE", "FR", "ES", "IT", "JP", "IN")
# reference column → our field; the reference checks state only where it has a state rule in its suite
COLUMNS = {
    "first_name": "firstname",
    "last_name": "lastname",
    "email": "email",
    "address": "address",
    "city": "city",
    "zip": "postal",
    "state": "state",
}
EMPTY_SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

pytestmark = pytest.mark.skipif(not MIRROR.is_dir(), reason="ADSBRIDGE_REFERENCE_MIRROR names no reference clone")


def _load(country: str, kind: str) -> list[dict[str, str]]:
    cc = country.lower()
    text = subprocess.run(
        ["git", "-C", str(MIRROR), "show", f"HEAD:{DATA}/test_{cc}/{cc}_{kind}.json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rows: list[dict[str, str]] = json.loads(text)
    return rows


def parity(country: str) -> dict[str, tuple[int, int]]:
    """{field: (matches, rows)} — an omitted field counts as a match when the reference expects sha256("")."""
    raw = {row["id"]: row for row in _load(country, "raw")}
    counts: dict[str, list[int]] = {}
    for expected in _load(country, "check"):
        row = raw[expected["id"]]
        ours = hash_pii({field: row.get(column) for column, field in COLUMNS.items()}, country)
        for column, field in COLUMNS.items():
            if column not in expected:
                continue
            got = ours.get(field, EMPTY_SHA)
            tally = counts.setdefault(field, [0, 0])
            tally[0] += got == expected[column]
            tally[1] += 1
    return {field: (hit, total) for field, (hit, total) in counts.items()}


def phone_parity(country: str) -> tuple[int, int, int, int]:
    """(matches, rows) over the rows read alike, then over all rows, for the phone field.

    The check files were made from a phone's digits alone, the ``+`` dropped: ``+62 457 848 8164`` in the DE
    file is expected as sha256("49624578488164"), ``+1 416 941 1859`` in the IN file as
    sha256("9114169411859"), and most other countries' ``+`` numbers as invalid national numbers. A ``+``
    followed by another country's code therefore names a different number to the check file than to a
    caller, so such rows count only in the second pair; a national number, or one with the row's own code,
    means the same to both.
    """
    code = str(phonenumbers.country_code_for_region(country))
    raw = {row["id"]: row for row in _load(country, "raw")}
    alike = [0, 0]
    every = [0, 0]
    for expected in _load(country, "check"):
        value = raw[expected["id"]].get("phone") or ""
        ours = normalize("phone", value, country)
        hit = hashlib.sha256((ours or "").encode()).hexdigest() == expected["phone"]
        every[0] += hit
        every[1] += 1
        if not value.startswith("+") or re.sub(r"\D", "", value).startswith(code):
            alike[0] += hit
            alike[1] += 1
    return alike[0], alike[1], every[0], every[1]


def test_phone_hashes_match_reference_check_files_where_read_alike() -> None:
    """Numbers outside their country's numbering plan, and local-only ones, are invalid, as the data says."""
    counts = [phone_parity(country) for country in COUNTRIES]
    hits, rows = sum(count[0] for count in counts), sum(count[1] for count in counts)
    assert hits >= 0.95 * rows, f"phone parity {hits}/{rows}: " + " ".join(
        f"{country}={count[0]}/{count[1]}" for country, count in zip(COUNTRIES, counts, strict=True)
    )


@pytest.mark.parametrize("country", COUNTRIES)
def test_hashes_match_reference_check_files(country: str) -> None:
    result = parity(country)
    assert result, "no rows compared"
    misses = {field: f"{hit}/{total}" for field, (hit, total) in result.items() if hit != total}
    assert not misses, f"{country}: {misses}"


LIBRARY = "source/glue/library"
REFERENCE_MODULES = ("address", "state", "zip", "city", "default", "email")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The reference normaliser classes, loaded from the mirror into a temp dir (never copied into the repo)."""
    folder = tmp_path_factory.mktemp("reference")
    for name in [f"{module}_normalizer.py" for module in REFERENCE_MODULES] + ["address_map_helper.json"]:
        blob = subprocess.run(
            ["git", "-C", str(MIRROR), "show", f"HEAD:{LIBRARY}/{name}"], check=True, capture_output=True
        ).stdout
        (folder / name).write_bytes(blob)
    loaded: dict[str, Any] = {}
    for module in REFERENCE_MODULES:
        spec = importlib.util.spec_from_file_location(f"_reference_{module}", folder / f"{module}_normalizer.py")
        assert spec is not None and spec.loader is not None
        code = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(code)
        loaded[module] = code
    return loaded


def _messy(rng: random.Random, pieces: list[str], extras: str) -> str:
    words = [rng.choice(pieces) for _ in range(rng.randint(0, 6))]
    text = ""
    for word in words:
        if rng.random() < 0.3:
            word = word.lower() if rng.random() < 0.5 else word.title()
        text += word + rng.choice([" ", " ", "  ", ", ", ".", "-", "#", "", " C/O ", "(", ")", "!", "/", "\t"])
        if rng.random() < 0.2:
            text += rng.choice(extras)
    return text


FUZZ_PIECES = (
    "123 4 17-B 5-12 12-34-B B-12 # #5 APT#5 5#A A#1#B #A-B/C NO NUM NÚMERO North NORTHEAST SO W Street ST. Ave "
    "Avenue Suite STE Apt KEY MDW Boulevard BOUL Way Terrace Hill Plaza Road Drive Via Piazza Calle Rue Allée "
    "Strasse Straße Flat Ltd Inc. C/O ½ ² 3rd Élysées o'Brien Mühlenweg Île-de-France Québec New York "
    "Baden-Württemberg Nouveau-Brunswick SW1A 1AA M1 1AE K1A0B1 h0h 0h0 75236-9599 787-0150 110001 ١٢٣٤٥٦ "
    "john.doe+tag@example.com A@B @x x@ a@@b ü ß ø æ é ñ İ ﬁ K"
).split()
EXTRAS = "-#/.,'!()[]{}\"’ \u00a0\u2003ßéÉ0123456789"


@pytest.mark.parametrize("country", COUNTRIES)
def test_messy_values_match_reference_normalisers(country: str, reference: dict[str, Any]) -> None:
    """Differential fuzz: our rules vs the reference code itself on messy, quirk-heavy input."""
    rng = random.Random(f"parity-{country}")
    ref_address = reference["address"].AddressNormalizer(country)
    ref_state = reference["state"].StateNormalizer(country)
    ref_zip = reference["zip"].ZipNormalizer(country)
    ref = {
        "address": lambda v: ref_address.normalize(v).normalized_record,
        "state": lambda v: ref_state.normalize(v).normalized_record,
        "postal": lambda v: ref_zip.normalize(v).normalized_record,
        "city": lambda v: reference["city"].CityNormalizer().normalize(v).normalized_record,
        "firstname": lambda v: reference["default"].DefaultNormalizer().normalize(v).normalized_record,
        "email": lambda v: reference["email"].EmailNormalizer().normalize(v).normalized_record,
    }
    mismatches = []
    with contextlib.redirect_stdout(io.StringIO()):  # the reference address code prints progress
        for _ in range(2000):
            value = _messy(rng, FUZZ_PIECES, EXTRAS)
            for field, rule in ref.items():
                if (normalize(field, value, country) or "") != rule(value):
                    mismatches.append(field)
    assert not mismatches, f"{country}: {len(mismatches)} mismatches in {sorted(set(mismatches))}"


if __name__ == "__main__":  # prints the per-country, per-field match table
    for cc in COUNTRIES:
        alike_hit, alike_rows, all_hit, all_rows = phone_parity(cc)
        fields = " ".join(f"{field}={hit}/{total}" for field, (hit, total) in parity(cc).items())
        print(cc, fields, f"phone={alike_hit}/{alike_rows} (all rows {all_hit}/{all_rows})")
