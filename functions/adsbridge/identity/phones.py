"""Phone rule: E.164 digits without the ``+``, via Google's libphonenumber port (``phonenumbers``).

The value is parsed with the row's country as the default region and kept only if
``is_possible_number`` (a length check) says so; a leading ``+`` keeps the number's own country code, a
national number gets the region's. This reproduces the expected hashes in Amazon's reference test data
(``5714120599``/US → ``15714120599``); the reference's own phone code does not, so it is not followed.

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
from functools import cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat

_SLOW = ""  # fast-path answer meaning "ask the full parser"
# "Possible" includes local-only short numbers (DE "12" → 4912) that no one can be reached at from abroad;
# real subscriber numbers in Amazon's markets are 8-15 digits with the country code (E.164 allows 15).
MIN_E164_DIGITS = 8
_SLOW_MEMO_LIMIT = 4096


def full_parse(value: str, region: str) -> str | None:
    """The reference behaviour: parse with ``region`` as default, keep possible numbers, E.164 minus ``+``."""
    try:
        number = phonenumbers.parse(value, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    e164: str = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return _plausible(e164[1:])


def _plausible(digits: str | None) -> str | None:
    return digits if digits is not None and len(digits) >= MIN_E164_DIGITS else None


def _compile(pattern: str | None) -> re.Pattern[str] | None:
    return re.compile(pattern) if pattern else None


@cache
def _calling_code_rules(code: int) -> tuple[re.Pattern[str] | None, frozenset[int]] | None:
    """Trunk-prefix pattern and possible national lengths of ``code``'s main region (None: non-geographic)."""
    region = phonenumbers.region_code_for_country_code(code)
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:
        return None
    general = metadata.general_desc
    return (
        _compile(metadata.national_prefix_for_parsing),
        frozenset(general.possible_length) | frozenset(general.possible_length_local_only),
    )


class PhoneRule:
    """The phone rule for one default region, with that region's metadata looked up once."""

    __slots__ = (
        "_code",
        "_general",
        "_idd",
        "_lengths",
        "_local",
        "_longest",
        "_prefix",
        "_region_lengths",
        "_rules",
        "_slow",
        "_transform",
        "region",
    )

    def __init__(self, region: str) -> None:
        self.region = region
        self._slow: dict[str, str | None] = {}
        metadata = PhoneMetadata.metadata_for_region(region)
        self._rules = _calling_code_rules(metadata.country_code) if metadata is not None else None
        general = metadata.general_desc if metadata is not None else None
        if metadata is None or general is None or self._rules is None:
            self._code = ""  # no fast path: every value goes to the full parser
            return
        self._code = str(metadata.country_code)
        self._idd = _compile(metadata.international_prefix)
        self._prefix = _compile(metadata.national_prefix_for_parsing)
        self._general = _compile(general.national_number_pattern)
        self._local = frozenset(general.possible_length_local_only)
        self._region_lengths = frozenset(general.possible_length)
        self._transform = bool(metadata.national_prefix_transform_rule)
        self._longest = max(general.possible_length)
        self._lengths = self._rules[1]

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
            return _plausible(fast)
        # junk such as "n/a" or "000" repeats, and the full parse is slow: remember its recent answers
        memo = self._slow
        if value in memo:
            return memo[value]
        if len(memo) >= _SLOW_MEMO_LIMIT:
            memo.clear()
        result = memo[value] = full_parse(value, self.region)
        return result

    def _national(self, digits: str) -> str | None:
        if self._idd is not None and self._idd.match(digits):
            return _SLOW
        code, prefix, general = self._code, self._prefix, self._general
        if digits.startswith(code):
            # the library strips the region's own calling code when that makes the number fit better
            rest = digits[len(code) :]
            if len(rest) < 2 or rest[0] == "0" or (prefix is not None and prefix.match(rest)):
                return _SLOW
            if (general is not None and not general.fullmatch(digits) and general.fullmatch(rest)) or (
                len(digits) > self._longest and len(digits) not in self._local
            ):
                main_prefix = self._rules[0] if self._rules else None
                if main_prefix is not None and main_prefix.match(rest):
                    return _SLOW
                return code + rest if len(rest) in self._lengths else None
        if prefix is not None:
            found = prefix.match(digits)
            if found is not None:
                # national (trunk) prefix such as the 0 in 020 7946 0958: stripped unless that leaves an
                # implausible number, by the library's two tests (pattern fit, then length)
                if self._transform:
                    return _SLOW
                rest = digits[found.end() :]
                if general is None or not general.fullmatch(digits) or general.fullmatch(rest):
                    size = len(rest)
                    if size in self._region_lengths or (size > self._longest and size not in self._local):
                        digits = rest
        if len(digits) < 2 or digits[0] == "0":
            return _SLOW  # leading zeros are kept in E.164 by rules the full parser knows
        return code + digits if len(digits) in self._lengths else None

    def _international(self, digits: str) -> str | None:
        if len(digits) < 3 or digits[0] == "0" or not (digits.isdigit() and digits.isascii()):
            return _SLOW
        for size in (1, 2, 3):
            code = int(digits[:size])
            if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                break
        else:
            return _SLOW
        rules = _calling_code_rules(code)
        rest = digits[size:]
        if rules is None or len(rest) < 2 or rest[0] == "0":
            return _SLOW
        prefix, lengths = rules
        if prefix is not None and prefix.match(rest):
            return _SLOW
        return digits[:size] + rest if len(rest) in lengths else None
