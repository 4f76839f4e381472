"""Amazon Ads regions (NA, EU, FE): a module of its own so the CLI can name them without loading pydantic.

Marketing Stream calls the same three a *realm*, and delivers each realm's data only in one AWS region.
"""

from __future__ import annotations

from enum import StrEnum


class Region(StrEnum):
    NA = "NA"
    EU = "EU"
    FE = "FE"

    @property
    def aws_region(self) -> str:
        """The AWS region where Marketing Stream delivers this realm's data (and its queues must be)."""
        return _AWS_REGIONS[self]


_AWS_REGIONS = {Region.NA: "us-east-1", Region.EU: "eu-west-1", Region.FE: "us-west-2"}
