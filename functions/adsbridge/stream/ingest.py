"""Land one SQS batch: parse every message, confirm Amazon's subscriptions, write records grouped by partition.

``stage`` runs per message (a malformed one fails alone); ``flush`` writes one object per partition, so a
batch of thousands of messages makes a handful of objects, and a failed write fails only its own messages.
The object key is a digest of its messages' ids: a redelivered group overwrites itself instead of
duplicating. Every field Amazon sends is kept; ``_received_at``, ``_message_id`` and ``_realm`` are added.

A message fails alone, to its queue's DLQ, whenever landing it would hide it: a record whose ``dataset_id``
is not its queue's dataset (it would be filed where nobody subscribed to it), a record outside the tables'
partition projection (partition.py), a confirmation that is not Amazon's (confirm.py).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from adsbridge.stream import datasets, envelope
from adsbridge.stream.confirm import UntrustedTopic, check_confirmation
from adsbridge.stream.partition import partition_of, prefix

# Amazon's filler for fields cut to fit SQS's 256 KB (docs/marketing-stream.md#truncated-payloads)
TRUNCATED_MARKER = "PAYLOAD_TRUNCATED"


class Writer(Protocol):
    def put_lines(self, key: str, lines: list[bytes]) -> None: ...


class Confirmer(Protocol):
    def confirm(self, region: str, topic_arn: str, token: str) -> str: ...


@dataclass(frozen=True)
class QueueMessage:
    message_id: str
    body: str
    queue_arn: str
    sent_at: datetime | None  # SQS SentTimestamp: stable across redeliveries


@dataclass
class _Group:
    message_ids: list[str]
    lines: list[bytes]


class Ingestor:
    """One per batch. ``counts`` feeds the metrics; ``failed`` lists message ids whose write failed."""

    def __init__(
        self,
        *,
        writer: Writer,
        confirmer: Confirmer,
        realm: datasets.Realm,
        queue_prefix: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._writer = writer
        self._confirmer = confirmer
        self._realm = realm
        self._queue_prefix = queue_prefix
        self._clock = clock
        self._groups: dict[str, _Group] = defaultdict(lambda: _Group([], []))
        self.counts: Counter[str] = Counter()

    def stage(self, message: QueueMessage) -> None:
        """Parse and stage one message; raises (failing it alone) when it is malformed or untrusted."""
        parsed = envelope.parse(message.body)
        if isinstance(parsed, envelope.Confirmation):
            self._confirm(parsed, message.queue_arn)
        elif isinstance(parsed, envelope.Ignored):
            self.counts["ControlMessagesIgnored"] += 1
        else:
            self._stage_record(parsed, message)

    def flush(self) -> dict[str, Exception]:
        """Write staged groups; returns the failure per message id of every group that could not be written."""
        failed: dict[str, Exception] = {}
        for partition_prefix, group in self._groups.items():
            try:
                self._writer.put_lines(object_key(partition_prefix, group.message_ids), group.lines)
            except Exception as exc:  # any failed put fails its records only; SQS redelivers them
                failed.update(dict.fromkeys(group.message_ids, exc))
                self.counts["WriteFailures"] += 1
            else:
                self.counts["ObjectsWritten"] += 1
                self.counts["RecordsWritten"] += len(group.lines)
        self._groups.clear()
        return failed

    def _confirm(self, confirmation: envelope.Confirmation, queue_arn: str) -> None:
        dataset = self.dataset_of_queue(queue_arn)
        try:
            region = check_confirmation(confirmation, realm=self._realm, dataset=dataset)
        except UntrustedTopic:
            self.counts["ConfirmationsRefused"] += 1
            raise
        self._confirmer.confirm(region, confirmation.topic_arn, confirmation.token)
        self.counts["SubscriptionsConfirmed"] += 1

    def _stage_record(self, record: envelope.Record, message: QueueMessage) -> None:
        queue_dataset = self.dataset_of_queue(message.queue_arn)
        if record.dataset.id != queue_dataset.id:
            raise envelope.MalformedMessage(f"{record.dataset.id} record on the {queue_dataset.id} queue")
        received_at = message.sent_at or self._clock()
        dt, hour = partition_of(record.dataset, record.fields, received_at)
        line = json.dumps(
            {
                **record.fields,
                "_received_at": received_at.astimezone(UTC).isoformat(timespec="milliseconds"),
                "_message_id": message.message_id,
                "_realm": self._realm.value,
            },
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,  # never non-standard JSON; the parser already refuses such bodies (envelope.py)
        ).encode(errors="backslashreplace")  # a lone surrogate (half an emoji) becomes its JSON escape, \ud83d
        if TRUNCATED_MARKER.encode() in line:
            self.counts["TruncatedPayloads"] += 1
        group = self._groups[prefix(record.dataset.id, dt, hour)]
        group.message_ids.append(message.message_id)
        group.lines.append(line)

    def dataset_of_queue(self, queue_arn: str) -> datasets.Dataset:
        """Queues are named ``<prefix><dataset id>`` (infra/stream), so a queue says which dataset it carries."""
        name = queue_arn.rsplit(":", 1)[-1]
        if not name.startswith(self._queue_prefix):
            raise envelope.MalformedMessage(f"queue {name} is not a stream queue")
        try:
            return datasets.get(name.removeprefix(self._queue_prefix))
        except datasets.UnknownDataset:
            raise envelope.MalformedMessage(f"queue {name} carries no known dataset") from None


def object_key(partition_prefix: str, message_ids: list[str]) -> str:
    digest = hashlib.sha256("\n".join(sorted(message_ids)).encode()).hexdigest()[:32]
    return f"{partition_prefix}{digest}.json.gz"
