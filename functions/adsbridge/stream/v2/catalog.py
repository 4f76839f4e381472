"""The catalog that follows the files: each landed v2 file's partition registered, the table's columns kept in step.

Rules (docs/marketing-stream.md#stream-v2-files):
- a column a footer brings that the table lacks is appended (Athena reads Parquet by column name, so older
  files read it as null and no query breaks); a column a newer file lacks stays in the table (null there);
- a struct column (also inside arrays, map values and other structs) whose footer type is the table's plus new
  fields is widened to their union: the table's fields in order, the new ones appended (``ColumnsWidened``); a
  file lacking some of the table's fields changes nothing (they read null there);
- any other difference (a field's or column's primitive type, struct against primitive) is counted
  (``ColumnTypeConflicts``) and left as it is: retyping would make every older file unreadable in that column;
- concurrent invocations adding or widening columns: ``UpdateTable`` carries the ``VersionId`` it read, Glue
  refuses a stale one (``ConcurrentModificationException``), and the merge is redone on the fresh table, so no
  column or field is lost;
- registering a partition that exists already (a re-sent notification, a second file of the hour) is success.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from adsbridge.stream.v2 import amazon, footer, hive_types

MAX_ATTEMPTS = 5  # optimistic UpdateTable retries; each one re-reads the table
# What UpdateTable's TableInput accepts of what GetTable returns.
TABLE_INPUT_KEYS = ("Name", "Description", "Owner", "Retention", "StorageDescriptor", "PartitionKeys", "TableType",
                    "Parameters")  # fmt: skip


class FileRefused(ValueError):
    """A notification that cannot be catalogued; ``reason`` is counted and the message goes to the DLQ."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Change:
    """What one file's columns change in the table: ``added`` and ``widened`` map a column to its new type,
    ``conflicts`` to the file's type the table keeps refusing."""

    added: dict[str, str]
    widened: dict[str, str]
    conflicts: dict[str, str]


def compare(have: dict[str, str], found: dict[str, str]) -> Change:
    """The table's columns (``have``, name → Glue type) against a file's (``found``)."""
    added, widened, conflicts = {}, {}, {}
    for column, kind in found.items():
        if column not in have:
            added[column] = kind
        elif have[column] != kind:
            merged = _widened(have[column], kind)
            if merged is None:
                conflicts[column] = kind
            elif merged != have[column]:
                widened[column] = merged
    return Change(added, widened, conflicts)


def _widened(table: str, file: str) -> str | None:
    """The table type widened by the file's (``hive_types.widened``), None when they conflict or do not parse."""
    try:
        table_type, file_type = hive_types.parse(table), hive_types.parse(file)
    except hive_types.TypeSyntaxError:
        return None
    merged = hive_types.widened(table_type, file_type)
    if merged is None:
        return None
    return table if merged == table_type else hive_types.render(merged)


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
        """The table after new columns were appended and structs widened; conflicts counted, never retyped."""
        for _ in range(MAX_ATTEMPTS):
            table = self.glue.get_table(DatabaseName=self.database, Name=name)["Table"]
            storage = dict(table["StorageDescriptor"])
            have = {c["Name"]: c["Type"] for c in storage["Columns"]}
            have.update({p["Name"]: p["Type"] for p in table.get("PartitionKeys", [])})
            change = compare(have, found)
            if change.added or change.widened:
                storage["Columns"] = [
                    *({**c, "Type": change.widened.get(c["Name"], c["Type"])} for c in storage["Columns"]),
                    *({"Name": c, "Type": k} for c, k in change.added.items()),
                ]
                if not self._update_table(table, storage):
                    continue
            self._count(name, have, change)
            return {**table, "StorageDescriptor": storage}
        raise RuntimeError(f"{name}: UpdateTable kept meeting concurrent changes ({MAX_ATTEMPTS} attempts)")

    def _update_table(self, table: dict[str, Any], storage: dict[str, Any]) -> bool:
        """False when another writer changed the table since it was read (Glue checks ``VersionId``)."""
        table_input = {k: table[k] for k in TABLE_INPUT_KEYS if k in table}
        try:
            self.glue.update_table(
                DatabaseName=self.database,
                TableInput={**table_input, "StorageDescriptor": storage},
                VersionId=table["VersionId"],
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConcurrentModificationException":
                raise
            self.counts["TableUpdateRetries"] += 1
            return False
        return True

    def _count(self, name: str, have: dict[str, str], change: Change) -> None:
        """Metrics and log lines of the change made: column names and types only."""
        self.counts["ColumnsAdded"] += len(change.added)
        self.counts["ColumnsWidened"] += len(change.widened)
        self.counts["ColumnTypeConflicts"] += len(change.conflicts)
        if change.added:
            self.log.info("columns added", extra={"table": name, "columns": list(change.added)})
        for column, kind in change.widened.items():
            self.log.info("struct column widened", extra={"table": name, "column": column, "table_type": have[column], "new_type": kind})  # fmt: skip
        for column, kind in change.conflicts.items():
            self.log.warning("column type differs from the table's", extra={"table": name, "column": column, "table_type": have[column], "file_type": kind})  # fmt: skip

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
