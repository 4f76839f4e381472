"""Move dead-lettered stream messages back to their source queue so ingest sees them again.

SQS's own ``StartMessageMoveTask`` would do this server-side, but moto (our test double) does not implement
it, so the move is receive → ``SendMessageBatch`` → ``DeleteMessageBatch`` with the same client: a message is
deleted from the DLQ only after its copy was accepted, so a crash can duplicate (the views dedup by
``idempotency_id``) but never lose one. Each run moves at most the DLQ's depth when it starts, so a message
that fails again and lands back in the DLQ is not cycled within the run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from adsbridge.stream import datasets

SQS_BATCH = 10  # SQS's maximum per receive, send and delete
# Per SendMessageBatch call. SQS allows 1 MiB since 2025 (256 KiB before); AMS bodies are at most 256 KB (Amazon
# truncates to fit), so ten of them may not fit in one call, and the older limit is the safe one to plan for.
SQS_BATCH_BYTES = 256 * 1024
DLQ_SUFFIX = "-dlq"  # infra/stream names each DLQ <queue>-dlq with this


@dataclass(frozen=True)
class Moved:
    dataset_id: str
    moved: int
    failed: int  # copies SQS refused; the originals stay in the DLQ and reappear after the visibility timeout


class QueueMissing(LookupError):
    """The dataset's queue or DLQ does not exist in this realm: the dataset is not deployed there."""


class Redriver:
    def __init__(self, client: Any, *, queue_prefix: str, wait_seconds: int = 1, visibility_seconds: int = 120) -> None:
        self._client = client
        self._prefix = queue_prefix
        self._wait = wait_seconds
        self._visibility = visibility_seconds

    def redrive(self, dataset_id: str) -> Moved:
        source, dlq = (self._url(f"{self._prefix}{dataset_id}{suffix}") for suffix in ("", DLQ_SUFFIX))
        budget = int(
            self._client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])[
                "Attributes"
            ]["ApproximateNumberOfMessages"]
        )
        moved = failed = 0
        while moved + failed < budget:
            messages = self._client.receive_message(
                QueueUrl=dlq,
                MaxNumberOfMessages=min(SQS_BATCH, budget - moved - failed),
                WaitTimeSeconds=self._wait,
                VisibilityTimeout=self._visibility,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                break
            accepted = self._send(source, [_copy(i, m) for i, m in enumerate(messages)])
            if accepted:
                self._client.delete_message_batch(
                    QueueUrl=dlq,
                    Entries=[{"Id": str(i), "ReceiptHandle": messages[i]["ReceiptHandle"]} for i in sorted(accepted)],
                )
            moved += len(accepted)
            failed += len(messages) - len(accepted)
        return Moved(dataset_id, moved, failed)

    def _send(self, queue_url: str, entries: list[dict[str, Any]]) -> set[int]:
        """Indexes of the entries SQS accepted, sent in as few calls as the batch size limit allows."""
        accepted: set[int] = set()
        for chunk in _by_size(entries):
            sent = self._client.send_message_batch(QueueUrl=queue_url, Entries=chunk)
            accepted.update(int(entry["Id"]) for entry in sent.get("Successful", []))
        return accepted

    def _url(self, name: str) -> str:
        try:
            return str(self._client.get_queue_url(QueueName=name)["QueueUrl"])
        except self._client.exceptions.QueueDoesNotExist:
            raise QueueMissing(name) from None


def _copy(index: int, message: dict[str, Any]) -> dict[str, Any]:
    entry = {"Id": str(index), "MessageBody": message["Body"]}
    if message.get("MessageAttributes"):
        entry["MessageAttributes"] = message["MessageAttributes"]
    return entry


def _by_size(entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    chunks: list[list[dict[str, Any]]] = [[]]
    size = 0
    for entry in entries:
        entry_size = len(entry["MessageBody"].encode()) + len(json.dumps(entry.get("MessageAttributes", {})))
        if chunks[-1] and size + entry_size > SQS_BATCH_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(entry)
        size += entry_size
    return chunks


def redrive_all(redriver: Redriver, dataset_ids: Iterable[str] | None) -> list[Moved]:
    """The named datasets (each must be deployed), or every dataset whose queues exist in the realm."""
    if dataset_ids is not None:
        return [redriver.redrive(d) for d in dataset_ids]
    results = []
    for dataset_id in datasets.catalogue():
        try:
            results.append(redriver.redrive(dataset_id))
        except QueueMissing:
            continue  # not deployed in this realm
    return results
