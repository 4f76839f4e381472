"""Amazon Ads regions (NA, EU, FE): a module of its own so the CLI can name them without loading pydantic."""

from __future__ import annotations

from enum import StrEnum


class Region(StrEnum):
    NA = "NA"
    EU = "EU"
    FE = "FE"
