"""What an SQS body from Amazon Marketing Stream is: a raw record, an SNS envelope, or a confirmation.

Amazon never says whether its SNS subscriptions deliver raw (docs/marketing-stream.md#message-envelope), so both
forms are read. A body that is none of these is malformed and must reach the DLQ; its text is never echoed.

JSON here means RFC 8259: Python's reader also takes ``NaN``/``Infinity`` (and reads ``1e999`` as infinity),
which would be written back out as non-standard JSON that Athena's SerDe cannot read. Such a body fails to the
DLQ whole rather than landing with the value nulled: Amazon documents no such value, so it is corrupt or forged,
and the DLQ keeps it verbatim for inspection and redrive, where a null would silently change a SUM.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from adsbridge.stream import datasets


class MalformedMessage(ValueError):
    """The body is not a message we can land; the reason never contains the body."""


@dataclass(frozen=True)
class Record:
    dataset: datasets.Dataset
    fields: dict[str, Any]


@dataclass(frozen=True)
class Confirmation:
    topic_arn: str
    token: str
    subscribe_url: str  # checked against the topic and token (confirm.py), never fetched


@dataclass(frozen=True)
class Ignored:
    """SNS control messages that carry no data (UnsubscribeConfirmation)."""

    type: str


Message = Record | Confirmation | Ignored


def parse(body: str) -> Message:
    document = _object(body, "body")
    kind = document.get("Type")
    if kind == "SubscriptionConfirmation":
        return Confirmation(_text(document, "TopicArn"), _text(document, "Token"), _text(document, "SubscribeURL"))
    if kind == "UnsubscribeConfirmation":
        return Ignored(kind)
    if kind == "Notification" and "Message" in document and "dataset_id" not in document:
        return _record(_object(_text(document, "Message"), "SNS Message"))
    return _record(document)


def _record(fields: dict[str, Any]) -> Record:
    dataset_id = fields.get("dataset_id")
    if not isinstance(dataset_id, str):
        raise MalformedMessage("record has no dataset_id")
    try:
        return Record(datasets.get(dataset_id), fields)
    except datasets.UnknownDataset:
        raise MalformedMessage(f"unknown dataset_id {dataset_id[:80]!r}") from None


def _object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except ValueError as exc:  # JSONDecodeError's message gives a position, never the text
        raise MalformedMessage(f"{what} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise MalformedMessage(f"{what} is JSON {type(value).__name__}, not an object")
    return value


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError("a number beyond a double's range")  # the literal is never echoed
    return value


def _text(document: dict[str, Any], key: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedMessage(f"SNS message without {key}")
    return value
