"""The phone fast path must give exactly what the full ``phonenumbers`` parse gives, for every region.

The generator aims at the edges the fast path reasons about: national (trunk) prefixes, international
prefixes, the region's own calling code at the start, ``+`` with known and unknown codes, leading zeros,
too few/many digits, and separators anywhere.
"""

from __future__ import annotations

import random

import phonenumbers
import pytest
from phonenumbers import PhoneMetadata

from adsbridge.identity.phones import PhoneRule, full_parse

REGIONS = [*sorted(phonenumbers.SUPPORTED_REGIONS), "ZZ"]
CALLING_CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
SEPARATORS = [" ", "-", ".", "(", ")", "", "", ""]


def _number(rng: random.Random, region: str) -> str:
    metadata = PhoneMetadata.metadata_for_region(region)
    code = str(metadata.country_code) if metadata else "1"
    idd = rng.choice(["00", "011", "010", "0011", "810"])
    start = rng.choice(
        [
            "",
            "",
            "",
            "0",
            "00",
            "1",
            code,
            code,
            code + "0",
            idd + code,
            "+" + code,
            "+" + code,
            "+" + str(rng.choice(CALLING_CODES)),
            "+0",
            "+" + code + "0",
            "0" + code,
            "8",
            "9",
        ]
    )
    text = start + "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 14)))
    out = []
    for char in text:
        out.append(char)
        if rng.random() < 0.15:
            out.append(rng.choice(SEPARATORS))
    return "".join(out)


@pytest.mark.parametrize("chunk", range(4))
def test_fast_path_equals_full_parse(chunk: int) -> None:
    rng = random.Random(1000 + chunk)
    mismatches = []
    for region in REGIONS[chunk::4]:
        rule = PhoneRule(region)
        for _ in range(250):
            value = _number(rng, region)
            if rule(value) != full_parse(value, region):
                mismatches.append((region, value))
    assert not mismatches, mismatches[:10]


def test_fast_path_is_taken_for_common_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards the speed: these shapes must not reach the slow parser."""
    import adsbridge.identity.phones as phones

    def refuse(value: str, region: str) -> str | None:
        raise AssertionError("slow path used")

    monkeypatch.setattr(phones, "full_parse", refuse)
    for value, region, expected in [
        ("(571) 412-0599", "US", "15714120599"),
        ("1-571-412-0599", "US", "15714120599"),
        ("+1 571 412 0599", "CA", "15714120599"),
        ("020 7946 0958", "GB", "442079460958"),
        ("+49 30 1234567", "DE", "49301234567"),
        ("98765 43210", "IN", "919876543210"),
        ("12345", "US", None),
        ("555-1234", "US", None),  # local-only length
        ("474-223-1916", "GB", None),  # outside the GB numbering plan
        ("+44 4742 231916", "DE", None),
    ]:
        assert PhoneRule(region)(value) == expected
