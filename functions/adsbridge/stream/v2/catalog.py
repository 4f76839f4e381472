"""The catalog that follows the files: each landed v2 file's partition registered, the table's columns kept in step.

Rules (docs/marketing-stream.md#stream-v2-files):
- a column a footer brings that the table lacks is appended (Athena reads Parquet by column name, so older
  files read it as null and no query breaks); a column a newer file lacks stays in the table (null there);
- a column whose type in a footer differs from the table's is counted (``ColumnTypeConflicts``) and left as it
  is: retyping would make every older file unreadable in that column;
- concurrent invocations adding columns: ``UpdateTable`` carries the ``VersionId`` it read, Glue refuses a stale
  one (``ConcurrentModificationException``), and the merge is redone on the fresh table, so no column is lost;
- registering a partition that exists already (a re-sent notification, a second file of the hour) is success.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from adsbridge.stream.v2 import amazon, footer

MAX_ATTEMPTS = 5  # optimistic UpdateTable retries; each one re-reads the table
# What UpdateTable's TableInput accepts of what GetTable returns.
TABLE_INPUT_KEYS = ("Name", "Description", "Owner", "Retention", "StorageDescriptor", "PartitionKeys", "TableType",
                    "Parameters")  # fmt: skip


class FileRefused(ValueError):
    """A notification that cannot be catalogued; ``reason`` is counted and the message goes to the DLQ."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class Catalog:
    """``glue`` and ``s3`` are boto3 clients; ``counts`` gathers the invocation's metrics; ``log`` is the
    handler's Powertools logger (column names and types only, never values)."""

    glue: Any
    s3: Any
    database: str
    log: Any = field(default_factory=lambda: logging.getLogger(__name__))
    counts: Counter[str] = field(default_factory=Counter)

    def catalogue(self, body: str) -> None:
        """Every file one notification points at; raises ``FileRefused`` (counted) when it cannot."""
        try:
            files = amazon.landed_files(body)
            schemas = [footer.columns(footer.read_schema(self.s3, f.bucket, f.key)) for f in files]
        except (amazon.BadNotification, footer.NotParquet, footer.UnsupportedType) as exc:
            reason = getattr(exc, "reason", "refused")
            self.counts[f"Refused_{reason}"] += 1
            raise FileRefused(reason, str(exc)) from None
        for landed, columns in zip(files, schemas, strict=True):
            table = self._sync_columns(landed.table, columns)
            self._register(landed, table)
            self.counts["FilesCatalogued"] += 1

    def _sync_columns(self, name: str, found: dict[str, str]) -> dict[str, Any]:
        """The table after any new columns were appended; conflicts counted, never retyped."""
        for _ in range(MAX_ATTEMPTS):
            table = self.glue.get_table(DatabaseName=self.database, Name=name)["Table"]
            have = {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}
            have.update({p["Name"]: p["Type"] for p in table.get("PartitionKeys", [])})
            for column, kind in found.items():
                if column in have and have[column] != kind:
                    self.counts["ColumnTypeConflicts"] += 1
                    self.log.warning("column type differs from the table's", extra={"column": column, "table_type": have[column], "file_type": kind})  # fmt: skip
            new = [{"Name": c, "Type": k} for c, k in found.items() if c not in have]
            if not new:
                return dict(table)
            table_input = {k: table[k] for k in TABLE_INPUT_KEYS if k in table}
            storage = table_input["StorageDescriptor"] = dict(table["StorageDescriptor"])
            storage["Columns"] = [*storage["Columns"], *new]
            try:
                self.glue.update_table(DatabaseName=self.database, TableInput=table_input, VersionId=table["VersionId"])
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConcurrentModificationException":
                    raise
                self.counts["TableUpdateRetries"] += 1
                continue
            self.counts["ColumnsAdded"] += len(new)
            self.log.info("columns added", extra={"table": name, "columns": [c["Name"] for c in new]})
            return {**table, "StorageDescriptor": storage}
        raise RuntimeError(f"{name}: UpdateTable kept meeting concurrent changes ({MAX_ATTEMPTS} attempts)")

    def _register(self, landed: amazon.LandedFile, table: dict[str, Any]) -> None:
        storage = {**table["StorageDescriptor"], "Location": f"s3://{landed.bucket}/{landed.directory}"}
        response = self.glue.batch_create_partition(
            DatabaseName=self.database,
            TableName=landed.table,
            PartitionInputList=[{"Values": list(landed.partition), "StorageDescriptor": storage}],
        )
        errors = [e["ErrorDetail"]["ErrorCode"] for e in response.get("Errors", [])]
        if any(code != "AlreadyExistsException" for code in errors):
            raise RuntimeError(f"{landed.table}: BatchCreatePartition failed ({', '.join(errors)})")
        self.counts["PartitionsExisting" if errors else "PartitionsCreated"] += 1
