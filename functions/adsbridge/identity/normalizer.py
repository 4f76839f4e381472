"""One country's field rules, built once, plus bounded caches of finished hashes.

:func:`normalizer_for` hands out one :class:`Normalizer` per canonical country (``UK`` → ``GB``; codes that
are not ISO 3166-1 alpha-2 share the default rules under ``ZZ``, where only ``+``-prefixed phones parse).
Fields whose values repeat a lot across a file — names, city, state, postal — keep a value → hash cache;
a cache is emptied when it reaches its limit, so memory stays bounded whatever the input size.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from hashlib import sha256

from adsbridge.identity.address import AddressRule
from adsbridge.identity.countries import normalize_country
from adsbridge.identity.emails import normalize_email
from adsbridge.identity.names import normalize_city, normalize_name
from adsbridge.identity.phones import PhoneRule
from adsbridge.identity.postal import postal_rule
from adsbridge.identity.states import StateRule

PII_FIELDS: tuple[str, ...] = ("email", "phone", "firstname", "lastname", "address", "city", "state", "postal")
UNKNOWN_COUNTRY = "ZZ"

Rule = Callable[[str], "str | None"]

_HEX64 = re.compile("[0-9a-fA-F]{64}")
# sha256(""): what some tools write for a blank cell. It matches no one, so it counts as empty.
EMPTY_SHA256 = sha256(b"").hexdigest()
# Cache sizes (entries, ~250 bytes each): names and city are shared by all countries; state and postal are
# per country, kept small because every country seen gets its own.
_SHARED_CACHE = 32_768
_CACHE_PER_COUNTRY = {"state": 2_048, "postal": 8_192}


def prehashed(value: str) -> str | None:
    """The lower-cased hex when ``value`` already is a SHA-256 hex digest (any case, outer spaces ignored).

    The digest of the empty string is returned too: callers treat it as empty (see :data:`EMPTY_SHA256`)."""
    if len(value) < 64:
        return None
    text = value.strip()
    return text.lower() if len(text) == 64 and _HEX64.fullmatch(text) else None


def _hasher(rule: Rule, cache: int = 0) -> Rule:
    """Value → SHA-256 hex of its normal form (pre-hashed values pass through), memoised up to ``cache``."""

    def digest(value: str) -> str | None:
        if len(value) >= 64:
            done = prehashed(value)
            if done is not None:
                return None if done == EMPTY_SHA256 else done
        normal = rule(value)
        return sha256(normal.encode()).hexdigest() if normal else None

    if not cache:
        return digest
    memo: dict[str, str | None] = {}
    miss = object()

    def memoised(value: str) -> str | None:
        found = memo.get(value, miss)
        if found is miss:
            if len(memo) >= cache:
                memo.clear()
            found = memo[value] = digest(value)
        return found  # type: ignore[return-value]

    return memoised


def _normalizer(rule: Rule) -> Rule:
    def normal(value: str) -> str | None:
        if len(value) >= 64:
            done = prehashed(value)
            if done is not None:
                return None if done == EMPTY_SHA256 else done
        return rule(value)

    return normal


# Country-independent rules share one cache across all countries.
_SHARED_HASHERS = {
    "firstname": _hasher(normalize_name, _SHARED_CACHE),
    "lastname": _hasher(normalize_name, _SHARED_CACHE),
    "city": _hasher(normalize_city, _SHARED_CACHE),
}


class Normalizer:
    """All eight field rules for one country.

    ``rules``/``hashers`` map each name in :data:`PII_FIELDS` to a function of one raw string that returns the
    normal form / SHA-256 hex, or None when the value is empty or invalid (the field is then omitted).
    """

    __slots__ = ("country", "hashers", "rules")

    def __init__(self, country: str) -> None:
        self.country = country
        rules: dict[str, Rule] = {
            "email": normalize_email,
            "phone": PhoneRule(country),
            "firstname": normalize_name,
            "lastname": normalize_name,
            "address": AddressRule(country),
            "city": normalize_city,
            "state": StateRule(country),
            "postal": postal_rule(country),
        }
        self.rules: dict[str, Rule] = {field: _normalizer(rule) for field, rule in rules.items()}
        self.hashers: dict[str, Rule] = {
            field: _SHARED_HASHERS.get(field) or _hasher(rules[field], _CACHE_PER_COUNTRY.get(field, 0))
            for field in PII_FIELDS
        }

    def normalize(self, field: str, value: str) -> str | None:
        return self.rules[_known(field)](value) if value else None

    def hash_all(self, values: Mapping[str, str | None]) -> dict[str, str]:
        hashed: dict[str, str] = {}
        for field, hasher in self.hashers.items():
            value = values.get(field)
            if value:
                digest = hasher(value)
                if digest:
                    hashed[field] = digest
        return hashed


def _known(field: str) -> str:
    if field not in PII_FIELDS:
        raise ValueError(f"unknown PII field {field!r}; expected one of {', '.join(PII_FIELDS)}")
    return field


_BY_COUNTRY: dict[str, Normalizer] = {}
_BY_INPUT: dict[str, Normalizer] = {}


def normalizer_for(country: str) -> Normalizer:
    """The shared :class:`Normalizer` for a country code (case-insensitive, outer spaces ignored, UK = GB)."""
    found = _BY_INPUT.get(country)
    if found is None:
        code = normalize_country(country) or UNKNOWN_COUNTRY
        found = _BY_COUNTRY.get(code)
        if found is None:
            found = _BY_COUNTRY[code] = Normalizer(code)
        if len(_BY_INPUT) >= 1024:  # raw spellings are unbounded (bad input); the canonical set is not
            _BY_INPUT.clear()
        _BY_INPUT[country] = found
    return found
