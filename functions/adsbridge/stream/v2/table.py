"""The Glue table of one v2 dataset, as the Glue API's ``TableInput``: CDK creates it (infra/stream/v2_catalog.py)
with the columns the views need, the catalog Lambda appends what the files bring and registers each partition.

No partition projection: the key layout is UNVERIFIED (``amazon.KEY_LAYOUT``), and registered partitions list
exactly the directories that hold files, including the 70 days of history that arrive on subscribing.
"""

from __future__ import annotations

from typing import Any

from adsbridge.stream.v2 import amazon

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"


def table_input(dataset: str, bucket: str) -> dict[str, Any]:
    return {
        "Name": amazon.table_name(dataset),
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE"},
        "PartitionKeys": [{"Name": key, "Type": "string"} for key in amazon.PARTITION_KEYS],
        "StorageDescriptor": {
            "Columns": [{"Name": name, "Type": kind} for name, kind in amazon.table_columns()],
            "Location": f"s3://{bucket}/",
            "InputFormat": PARQUET_INPUT,
            "OutputFormat": PARQUET_OUTPUT,
            "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE},
        },
    }
