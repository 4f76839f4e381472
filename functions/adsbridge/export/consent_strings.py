"""Is a ``tcf`` or ``gpp`` consent value an IAB consent string at all?

Amazon takes these strings as they come, so a value that is not one (``no``, ``yes``, an e-mail address
pasted into the wrong column) would be sent and counted as consent. Only the structure is checked — what
the user consented to is Amazon's to read:

* TCF: an IAB Europe TCF v2 TC string — base64url segments (no padding) joined by ``.``; the first (core)
  segment's first 6 bits are its version, 2, and it holds the whole core: the fixed fields (213 bits: version
  to publisher country code), then the vendor consent and vendor legitimate-interest sections and the
  publisher restrictions, each as long as its own counts say (a TC string cut short ends inside one); each
  further segment's first 3 bits are a segment type, 1-3 (disclosed vendors, allowed vendors, publisher TC).
* GPP: an IAB GPP v1 string — a header and sections joined by ``~``; the header is base64url whose first 6
  bits are the type, 3, the next 6 the version, 1, then the section ids as a Fibonacci range; exactly one
  non-empty section of URL-safe characters (base64url and ``.``) follows per id listed, and at least one;
  the EU TCF v2 section (id 2) must be a TC string as above.
"""

from __future__ import annotations

import re

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_BASE64URL = re.compile("[A-Za-z0-9_-]+")
_SECTION = re.compile("[A-Za-z0-9_.-]+")
TCF_VERSION = 2
TCF_CORE_BITS = 213  # Version(6) Created(36) LastUpdated(36) CmpId(12) CmpVersion(12) ConsentScreen(6)
# ConsentLanguage(12) VendorListVersion(12) TcfPolicyVersion(6) IsServiceSpecific(1) UseNonStandardTexts(1)
# SpecialFeatureOptIns(12) PurposesConsent(24) PurposesLITransparency(24) PurposeOneTreatment(1) PublisherCC(12)
TCF_SEGMENT_TYPES = range(1, 4)
GPP_HEADER_TYPE, GPP_VERSION = 3, 1
GPP_TCF_EU = 2  # the section id of the EU TCF v2 section (GPP's section registry)


def is_tcf_string(value: str) -> bool:
    """True when ``value`` is shaped like an IAB TCF v2 TC string (see the module docstring)."""
    core, *others = value.split(".")
    if not _BASE64URL.fullmatch(core) or len(core) * 6 < TCF_CORE_BITS or _bits(core, 0, 6) != TCF_VERSION:
        return False
    if _tcf_core_end(_bit_string(core)) is None:
        return False
    return all(_BASE64URL.fullmatch(segment) and _bits(segment, 0, 3) in TCF_SEGMENT_TYPES for segment in others)


def is_gpp_string(value: str) -> bool:
    """True when ``value`` is shaped like an IAB GPP v1 string (see the module docstring)."""
    header, *sections = value.split("~")
    if not _BASE64URL.fullmatch(header) or len(header) < 4:  # type, version and the range's 12-bit count
        return False
    if _bits(header, 0, 6) != GPP_HEADER_TYPE or _bits(header, 6, 12) != GPP_VERSION:
        return False
    ids = _section_ids(_bit_string(header)[12:])
    if not sections or ids is None or len(ids) != len(sections):
        return False
    if not all(_SECTION.fullmatch(section) for section in sections):
        return False
    # the EU TCF v2 section is a TC string: one cut short is no consent, whichever column carries it
    return all(is_tcf_string(section) for id_, section in zip(ids, sections, strict=True) if id_ == GPP_TCF_EU)


def _tcf_core_end(bits: str) -> int | None:
    """Where the core segment's last field ends, or None when ``bits`` end first (a TC string cut short).

    After the fixed fields come two vendor sections (MaxVendorId 16, IsRangeEncoding 1, then a bit field of
    MaxVendorId bits or a range list) and the publisher restrictions (NumPubRestrictions 12; each PurposeId 6,
    RestrictionType 2 and a range list), as the TCF v2 "TC String Format" lays them out.
    """
    position: int | None = TCF_CORE_BITS
    for _ in range(2):  # vendor consents, vendor legitimate interests
        if position is None or position + 17 > len(bits):
            return None
        max_vendor, is_range = int(bits[position : position + 16], 2), bits[position + 16] == "1"
        position = _range_list_end(bits, position + 17) if is_range else position + 17 + max_vendor
    if position is None or position + 12 > len(bits):
        return None
    restrictions, position = int(bits[position : position + 12], 2), position + 12
    for _ in range(restrictions):
        position = _range_list_end(bits, position + 8)  # PurposeId 6, RestrictionType 2
        if position is None:
            return None
    return position if position <= len(bits) else None


def _range_list_end(bits: str, position: int) -> int | None:
    """Where a TCF range list (NumEntries 12; each IsARange 1, a 16-bit vendor id, and a second if a range)
    starting at ``position`` ends, or None when ``bits`` end first."""
    if position + 12 > len(bits):
        return None
    entries, position = int(bits[position : position + 12], 2), position + 12
    for _ in range(entries):
        if position >= len(bits):
            return None
        position += 1 + (32 if bits[position] == "1" else 16)
    return position if position <= len(bits) else None


def _bit_string(text: str) -> str:
    """Base64url ``text`` as a string of "0"/"1", six per character."""
    return "".join(format(_ALPHABET.index(c), "06b") for c in text)


def _bits(text: str, start: int, end: int) -> int:
    """The unsigned integer in bits ``start``..``end`` of base64url ``text`` (which is long enough)."""
    return int(_bit_string(text[: (end + 5) // 6])[start:end], 2)


def _section_ids(bits: str) -> list[int] | None:
    """The section ids a GPP header's range lists (each id an offset from the previous one), or None."""
    if len(bits) < 12:
        return None
    entries, position, previous = int(bits[:12], 2), 12, 0
    ids: list[int] = []
    for _ in range(entries):
        if position >= len(bits):
            return None
        is_range = bits[position] == "1"
        found = _fibonacci(bits, position + 1)  # the first id
        if found is None:
            return None
        first, position = previous + found[0], found[1]
        last = first
        if is_range:
            found = _fibonacci(bits, position)  # how far the range's last id is past its first
            if found is None:
                return None
            last, position = first + found[0], found[1]
        ids.extend(range(first, last + 1))
        previous = last
    return ids


def _fibonacci(bits: str, position: int) -> tuple[int, int] | None:
    """A Fibonacci-coded integer starting at ``position`` (weights 1, 2, 3, 5, …; ends at "11"), and where
    the next field starts; None when the bits run out first."""
    value, weight, following, previous = 0, 1, 2, "0"
    for index in range(position, len(bits)):
        bit = bits[index]
        if bit == "1" and previous == "1":
            return value, index + 1
        if bit == "1":
            value += weight
        weight, following, previous = following, weight + following, bit
    return None
