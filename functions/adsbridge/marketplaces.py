"""Amazon Ads marketplaces (country codes) and the region — Marketing Stream's realm — that serves each.

Amazon's table, with its source: docs/marketing-stream.md#realms-and-regions. It sits in the runtime package,
beside ``adsbridge.regions``, because it is a fact about Amazon's API rather than about our stacks: the stream
config derives its realms from it (infra/stream/config.py), and runtime code may use it without importing infra.
"""

from __future__ import annotations

from collections.abc import Iterable

from adsbridge.regions import Region

REALM_OF: dict[str, Region] = {
    **dict.fromkeys(("BR", "US", "CA", "MX"), Region.NA),
    **dict.fromkeys(
        ("AE", "DE", "EG", "ES", "FR", "BE", "UK", "IN", "IT", "NL", "PL", "SA", "SE", "TR"),
        Region.EU,
    ),
    **dict.fromkeys(("SG", "AU", "JP"), Region.FE),
    "GB": Region.EU,  # ISO 3166 spells Amazon's UK so
}


class UnknownMarketplace(ValueError):
    """A country code outside Amazon's marketplace table."""


def realms_of(codes: Iterable[str]) -> tuple[Region, ...]:
    """The realms serving ``codes``, each once, in the order the codes first need them."""
    codes = tuple(codes)
    unknown = [c for c in codes if c not in REALM_OF]
    if unknown:
        raise UnknownMarketplace(f"unknown marketplace codes {unknown}; Amazon's are {sorted(REALM_OF)}")
    return tuple(dict.fromkeys(REALM_OF[c] for c in codes))
