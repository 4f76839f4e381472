"""Every UNVERIFIED fact about Stream v2 files, in one module, so that correcting one is one edit.

Known (docs/marketing-stream.md#stream-v2-files): Amazon's PublisherRole writes Parquet files into the data bucket and
one SQS message per file ("only pointers to S3 objects"); values are replacement totals per time window, the
newest ``streamBatch.version`` of a record wins; ``adProduct.value`` tells SP, SB, SD and DSP apart.
Not known, and assumed here: the message's fields, the object key layout, the Parquet column names and types.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from adsbridge.ads.stream_v2_contract import DATASET_PERFORMANCE

# UNVERIFIED: the notification body. Assumed: S3's own event notification shape, one or more records each naming
# the bucket and the URL-encoded object key ({"Records": [{"s3": {"bucket": {"name"}, "object": {"key"}}}]}).
RECORDS_FIELD = "Records"

# UNVERIFIED: the object key layout. Assumed: <any prefix>/<dataset id>/<YYYY-MM-DD>/<HH>/<file>.parquet, the
# date and hour being when the file's data was produced (UTC). Named groups after the dataset are the table's
# partition keys, in order.
KEY_LAYOUT = re.compile(r"^(?:.*/)?(?P<dataset>[a-z0-9-]+)/(?P<dt>\d{4}-\d{2}-\d{2})/(?P<hour>\d{2})/[^/]+\.parquet$")
PARTITION_KEYS = ("dt", "hour")

DATASETS = (DATASET_PERFORMANCE,)  # the v2 datasets catalogued; more may exist (DSP overviews)


@dataclass(frozen=True)
class Field:
    """A column the views need: ``column`` is the Glue (Parquet top-level) column, ``type`` its Hive type, ``path``
    the struct field inside it when the value is nested (Athena reads Parquet structs as Hive ``struct<…>``)."""

    column: str
    type: str
    path: str = ""

    def sql(self, alias: str) -> str:
        return f"{alias}.{self.column}.{self.path}" if self.path else f"{alias}.{self.column}"


# UNVERIFIED: names and types. Glue column names are lower case (Athena matches Parquet columns case-insensitively).
VERSION = Field("streambatch", "struct<version:bigint>", "version")
WINDOW_START = "window_start"  # ISO 8601 UTC text, "YYYY-MM-DDTHH:MM:SS…": dt and hour are its first 10 and 2 chars
DIMENSIONS: dict[str, Field] = {  # with the time window, the full record key
    "ad_product": Field("adproduct", "struct<value:string>", "value"),
    "advertiser_id": Field("advertiserid", "string"),
    "marketplace_id": Field("marketplaceid", "string"),
    "campaign_id": Field("campaignid", "string"),
    "ad_group_id": Field("adgroupid", "string"),
    "ad_id": Field("adid", "string"),
    "targeting_id": Field("targetingid", "string"),
    "placement": Field("placement", "string"),
    "currency": Field("currency", "string"),
    WINDOW_START: Field("timewindowstart", "string"),
    "window_end": Field("timewindowend", "string"),
}
METRICS: dict[str, Field] = {
    "impressions": Field("impressions", "bigint"),
    "clicks": Field("clicks", "bigint"),
    "cost": Field("cost", "double"),
    "sales": Field("sales", "double"),
    "purchases": Field("purchases", "bigint"),
}
SPONSORED_PRODUCTS = "SPONSORED_PRODUCTS"  # UNVERIFIED: adProduct.value of an SP row


class BadNotification(ValueError):
    """``reason`` is the counted metric reason; the message is safe to log (no values from the body)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class LandedFile:
    bucket: str
    key: str
    dataset: str
    partition: tuple[str, ...]  # values of PARTITION_KEYS

    @property
    def table(self) -> str:
        return table_name(self.dataset)

    @property
    def directory(self) -> str:
        return self.key.rsplit("/", 1)[0] + "/"


def table_name(dataset: str) -> str:
    return dataset.replace("-", "_")


def landed_files(body: str) -> list[LandedFile]:
    """The files one notification points at; ``BadNotification`` when it is not one."""
    try:
        message: Any = json.loads(body)
        pointers = [(r["s3"]["bucket"]["name"], unquote_plus(r["s3"]["object"]["key"])) for r in message[RECORDS_FIELD]]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadNotification("malformed_notification", f"not a file notification ({type(exc).__name__})") from None
    if not pointers or not all(isinstance(b, str) and isinstance(k, str) for b, k in pointers):
        raise BadNotification("malformed_notification", "a notification without a bucket and key")
    return [_landed(bucket, key) for bucket, key in pointers]


def _landed(bucket: str, key: str) -> LandedFile:
    match = KEY_LAYOUT.match(key)
    if match is None:
        raise BadNotification("unexpected_key_layout", "object key does not follow the assumed v2 layout")
    if match["dataset"] not in DATASETS:
        raise BadNotification("unknown_dataset", f"dataset {match['dataset']!r} is not catalogued")
    return LandedFile(bucket, key, match["dataset"], tuple(match[k] for k in PARTITION_KEYS))


def object_key(prefix: str, dataset: str, partition: tuple[str, ...], name: str) -> str:
    """The key Amazon is assumed to write a file under (KEY_LAYOUT): what the sandbox's v2 files use, so a correction
    of the layout is this one edit and the regex beside it."""
    key = "/".join([*filter(None, [prefix]), dataset, *partition, f"{name}.parquet"])
    if KEY_LAYOUT.match(key) is None:
        raise ValueError("object_key and KEY_LAYOUT disagree")
    return key


def notification_body(bucket: str, keys: list[str]) -> str:
    """The notification Amazon is assumed to send for landed files, the inverse of ``landed_files``."""
    records = [{"s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key, safe="/")}}} for key in keys]
    return json.dumps({RECORDS_FIELD: records})


def view_columns() -> dict[str, Field]:
    """Every column the views read, by its view name."""
    return {"version": VERSION, **DIMENSIONS, **METRICS}


def table_columns() -> list[tuple[str, str]]:
    """The Glue columns the table starts with (the views' sources must exist before a file lands)."""
    return list({f.column: f.type for f in view_columns().values()}.items())
