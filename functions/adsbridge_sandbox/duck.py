"""DuckDB stands in for Athena: tables over the objects the handler wrote, then the views' own SQL.

Each v1 table reads the gzip JSON lines with the Glue column list; several JSON spellings of one column are
coalesced, as Athena's case-insensitive OpenX JSON SerDe does. A v2 table reads the Parquet files of the partitions
the catalog Lambda registered in Glue, with the columns it keeps there.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from adsbridge.stream import views
from adsbridge.stream.datasets import Dataset
from adsbridge.stream.v2 import amazon
from adsbridge.stream.v2.views import v2_views

_TYPES = {"string": "VARCHAR", "bigint": "BIGINT", "double": "DOUBLE", "boolean": "BOOLEAN"}


def download(s3: Any, bucket: str, dest: Path) -> Path:
    """Every object of the raw bucket under ``dest``, keeping the keys (so the Hive partitions) as paths.

    One ``GetObject`` each: the objects are small, and ``download_file`` adds a ``HeadObject`` and a thread pool.
    """
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            target = dest / obj["Key"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
    return dest


def catalog(root: Path, database: str, selected: Iterable[Dataset]) -> duckdb.DuckDBPyConnection:
    """A DuckDB with one table per dataset (like the Glue tables) and every view created from the SQL files."""
    chosen = list(selected)
    con = duckdb.connect()
    con.execute(f"CREATE SCHEMA {database}")
    for dataset in chosen:
        json_columns = {key: _TYPES[c.type] for c in dataset.columns for key in c.keys}
        json_columns.update(dict.fromkeys(views.OUR_COLUMNS, "VARCHAR"))
        quoted = {c.name: ", ".join(f'"{key}"' for key in c.keys) for c in dataset.columns}
        projected = [f"coalesce({keys}) AS {name}" for name, keys in quoted.items()]
        files = root / f"dataset={dataset.id}"
        if files.exists():
            source = (
                f"read_json('{files}/*/*/*.json.gz', format='newline_delimited', columns={json_columns!r}, "
                "hive_partitioning=true, hive_types={'dt': 'VARCHAR', 'hour': 'VARCHAR'})"
            )
        else:  # no object yet: an empty table with the same columns
            cols = ", ".join(f'NULL::{t} AS "{k}"' for k, t in json_columns.items())
            source = f"(SELECT {cols}, NULL::VARCHAR AS dt, NULL::VARCHAR AS hour WHERE false)"
        con.execute(
            f"CREATE VIEW {database}.{dataset.table} AS SELECT {', '.join(projected)}, {', '.join(views.OUR_COLUMNS)}, dt, hour "
            f"FROM {source}"
        )
    for view in views.views(database, chosen):
        con.execute(view.sql)
    return con


def hourly(con: duckdb.DuckDBPyConnection, database: str, dataset: Dataset) -> dict[tuple[Any, ...], dict[str, Any]]:
    """A metric dataset's hourly view keyed by (Amazon's keys, dt, hour); a measure NULL in SQL counts as 0."""
    cols = [*dataset.keys, "dt", "hour"]
    rows = con.execute(
        f"SELECT {', '.join(cols + list(dataset.measures))} FROM {database}.{views.hourly_view(dataset)}"
    )
    return {
        row[: len(cols)]: {m: v or 0 for m, v in zip(dataset.measures, row[len(cols) :], strict=True)}
        for row in rows.fetchall()
    }


def v2_catalog(
    con: duckdb.DuckDBPyConnection, root: Path, glue: Any, database: str, dataset: str, v1_database: str | None = None
) -> None:
    """The v2 dataset's table as Glue has it (``database`` is the Glue database and DuckDB's schema): its columns
    over the files of its registered partitions, under ``root`` by key (``download``); then the v2 views."""
    name = amazon.table_name(dataset)
    table = glue.get_table(DatabaseName=database, Name=name)["Table"]
    bucket_root = table["StorageDescriptor"]["Location"]
    pages = glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=name)
    locations = [p["StorageDescriptor"]["Location"] for page in pages for p in page["Partitions"]]
    files = sorted(str(f) for loc in locations for f in (root / loc.removeprefix(bucket_root)).glob("*.parquet"))
    source = f"read_parquet({files!r}, union_by_name = true)"
    present = {row[0].lower() for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    columns = [c["Name"] for c in table["StorageDescriptor"]["Columns"]]
    projected = ", ".join(c if c in present else f"NULL AS {c}" for c in columns)  # a column no file has
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {database}")
    con.execute(f"CREATE VIEW {database}.{name} AS SELECT {projected} FROM {source}")
    for view in v2_views(database, dataset, v1_database):
        con.execute(view.sql)
