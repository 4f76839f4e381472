"""Phone rule: E.164 digits without the ``+``, via Google's libphonenumber port (``phonenumbers``).

The value is parsed with the row's country as the default region (a leading ``+`` keeps the number's own
country code, a national number gets the region's) and kept only when it could be someone's number anywhere:

* its length is one the library calls *possible* — not one it marks as dialable only locally, such as a US
  ``555-1234`` or a London ``7946 0958`` written without their area codes, which would hash as ``15551234``
  and match no one;
* it fits the numbering plan of its country code — the library's general pattern for the code's regions,
  which rules out, say, North American area codes starting with 0 or 1 and GB numbers starting with 4 or 6;
* it has at least :data:`MIN_E164_DIGITS` digits.

A number written without its area code is caught only where the plan tells: in Germany's open numbering
plan ``555-1234`` is also a well-formed number in area code 05551, so such numbers are kept.

It is not required to be *valid* (in an allocated range): Amazon's reference test data hashes unallocated
numbers such as ``9011534546``/US → ``19011534546``, and the library's allocation tables lag behind the
operators'. The reference's own phone code does not reproduce that data, so it is not followed.

``phonenumbers.parse`` costs ~20 µs, more than the rest of a row together, so :class:`PhoneRule` first
tries a *fast path* for the usual shape — ASCII digits with spaces, ``-``, ``.``, brackets and at most one
leading ``+`` — that replays, from the library's own metadata, the few parse steps such a string can
take: no IDD prefix, no national (trunk) prefix, no leading zero, the region's country code at the start
only when the library would strip it. Anything else (letters, extensions, trunk prefixes, IDD, unusual
regions) goes to the full parse. ``tests/unit/identity/test_phone_fast_path.py`` checks fast == full over
many generated numbers for every region.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, ValidationResult

_SLOW = ""  # fast-path answer meaning "ask the full parser"
# Real subscriber numbers in Amazon's markets are 8-15 digits with the country code (E.164 allows 15); a
# shorter "possible" number such as DE "1234" → 491234 is a local or service number, no identifier.
MIN_E164_DIGITS = 8
_SLOW_MEMO_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class _CallingCode:
    """What the library's metadata says about the national numbers behind one country calling code."""

    code: str
    trunk_prefix: re.Pattern[str] | None  # the main region's national prefix for parsing
    lengths: frozenset[int]  # possible national lengths, without those dialable only locally
    plan: re.Pattern[str]  # any of the general number patterns of the regions sharing the code

    def e164(self, national: str) -> str | None:
        """``code + national`` if that can be someone's number (see the module docstring), else None."""
        if len(national) not in self.lengths or self.plan.fullmatch(national) is None:
            return None
        digits = self.code + national
        return digits if len(digits) >= MIN_E164_DIGITS else None


@cache
def _calling_code(code: int) -> _CallingCode | None:
    """The rules for ``code`` (None: a code no region uses)."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ())
    found = (PhoneMetadata.metadata_for_region_or_calling_code(code, region) for region in regions)
    described = [(m, m.general_desc) for m in found if m is not None and m.general_desc is not None]
    if not described:
        return None
    main, general = described[0]  # the library's main region for the code comes first; it sets the lengths
    return _CallingCode(
        code=str(code),
        trunk_prefix=_compile(main.national_prefix_for_parsing),
        lengths=frozenset(general.possible_length),
        plan=re.compile(
            "|".join(f"(?:{d.national_number_pattern})" for _, d in described if d.national_number_pattern)
        ),
    )


def full_parse(value: str, region: str) -> str | None:
    """The reference behaviour: parse with ``region`` as default, keep numbers that can be someone's."""
    try:
        number = phonenumbers.parse(value, region)
    except NumberParseException:
        return None
    calling_code = _calling_code(number.country_code)
    if calling_code is None or phonenumbers.is_possible_number_with_reason(number) != ValidationResult.IS_POSSIBLE:
        return None
    return calling_code.e164(phonenumbers.national_significant_number(number))


def _compile(pattern: str | None) -> re.Pattern[str] | None:
    return re.compile(pattern) if pattern else None


class PhoneRule:
    """The phone rule for one default region, with that region's metadata looked up once."""

    __slots__ = (
        "_calling_code",
        "_code",
        "_general",
        "_idd",
        "_local",
        "_longest",
        "_prefix",
        "_region_lengths",
        "_slow",
        "_transform",
        "region",
    )

    def __init__(self, region: str) -> None:
        self.region = region
        self._slow: dict[str, str | None] = {}
        metadata = PhoneMetadata.metadata_for_region(region)
        calling_code = _calling_code(metadata.country_code) if metadata is not None else None
        general = metadata.general_desc if metadata is not None else None
        if metadata is None or general is None or calling_code is None:
            self._code = ""  # no fast path: every value goes to the full parser
            return
        self._calling_code = calling_code
        self._code = calling_code.code
        self._idd = _compile(metadata.international_prefix)
        self._prefix = _compile(metadata.national_prefix_for_parsing)
        self._general = _compile(general.national_number_pattern)
        self._local = frozenset(general.possible_length_local_only)
        self._region_lengths = frozenset(general.possible_length)
        self._transform = bool(metadata.national_prefix_transform_rule)
        self._longest = max(general.possible_length)

    def __call__(self, value: str) -> str | None:
        text = value
        if not text.isdigit():  # (str.replace beats translate/regex for these few characters)
            text = text.replace(" ", "").replace("-", "").replace(".", "").replace("(", "").replace(")", "")
        if text[:1] == "+":
            fast = self._international(text[1:])
        elif self._code and len(text) > 2 and text.isdigit() and text.isascii():
            fast = self._national(text)
        else:
            fast = _SLOW
        if fast != _SLOW:
            return fast
        # junk such as "n/a" or "000" repeats, and the full parse is slow: remember its recent answers
        memo = self._slow
        if value in memo:
            return memo[value]
        if len(memo) >= _SLOW_MEMO_LIMIT:
            memo.clear()
        result = memo[value] = full_parse(value, self.region)
        return result

    def _national(self, digits: str) -> str | None:
        """A number written without ``+``: the library's steps to its national number, then the checks."""
        if self._idd is not None and self._idd.match(digits):
            return _SLOW
        national = self._without_own_code(digits) if digits.startswith(self._code) else None
        if national is None:
            national = self._without_trunk_prefix(digits)
        if len(national) < 2 or national[0] == "0":
            return _SLOW  # (also _SLOW itself) leading zeros are kept in E.164 by rules the full parser knows
        return self._calling_code.e164(national)

    def _without_own_code(self, digits: str) -> str | None:
        """The national number if the library strips the region's own calling code here, None if it keeps it.

        It strips the code when that makes the number fit the region's pattern, or when the number is too
        long to be national.
        """
        rest = digits[len(self._code) :]
        prefix, general = self._prefix, self._general
        if len(rest) < 2 or rest[0] == "0" or (prefix is not None and prefix.match(rest)):
            return _SLOW
        fits_better = general is not None and not general.fullmatch(digits) and general.fullmatch(rest)
        too_long = len(digits) > self._longest and len(digits) not in self._local
        if not (fits_better or too_long):
            return None
        main_prefix = self._calling_code.trunk_prefix
        return _SLOW if main_prefix is not None and main_prefix.match(rest) else rest

    def _without_trunk_prefix(self, digits: str) -> str:
        """``digits`` without a national (trunk) prefix such as the 0 in 020 7946 0958, if the library drops it.

        It keeps the prefix when dropping it leaves an implausible number, by two tests: pattern fit, then
        length.
        """
        found = self._prefix.match(digits) if self._prefix is not None else None
        if found is None:
            return digits
        if self._transform:
            return _SLOW
        rest, general = digits[found.end() :], self._general
        if general is not None and general.fullmatch(digits) and not general.fullmatch(rest):
            return digits
        size = len(rest)
        if size in self._region_lengths or (size > self._longest and size not in self._local):
            return rest
        return digits

    def _international(self, digits: str) -> str | None:
        if len(digits) < 3 or digits[0] == "0" or not (digits.isdigit() and digits.isascii()):
            return _SLOW
        for size in (1, 2, 3):
            calling_code = _calling_code(int(digits[:size]))
            if calling_code is not None:
                break
        else:
            return _SLOW
        rest = digits[size:]
        if len(rest) < 2 or rest[0] == "0":
            return _SLOW
        prefix = calling_code.trunk_prefix
        if prefix is not None and prefix.match(rest):
            return _SLOW
        return calling_code.e164(rest)
