"""Marketing Stream subscriptions in the emulator, and delivery to SQS (docs/marketing-stream.md#subscriptions-api).

Amazon owns the SNS topics, so a real ``ConfirmSubscription`` can never reach us. Instead a subscription's
``SubscriptionConfirmation`` names a topic in Amazon's account for its dataset and realm (from the dataset
catalogue), and :class:`EmulatorSns` stands in for the boto3 SNS client: hand it to the ingest path's
confirmer (``SnsConfirmer(lambda region: emulator.sns)``) and confirming makes the subscription ACTIVE.

As Amazon's API model says (docs/amazon-api-models.md): one media type for every call, the DSP advertiser in
``Amazon-Ads-Account-ID`` (the onboarding guide's ``Amazon-Advertising-API-Account-ID`` is refused),
``clientRequestToken`` of 22-36 characters, notes of at most 128, pages of at most 5,000, and errors shaped
``{"code", "message"}``. Choices where Amazon's behaviour is UNVERIFIED: limit and idempotency violations
answer 400 with a message naming the existing subscription; archived and failed subscriptions do not count
towards the limits; the profile's ``Amazon-Advertising-API-Scope`` (optional in the model) is required, since
a subscription belongs to a profile; a DSP dataset (``adsp-*``) is refused on the sponsored-ads path and
vice versa. A ``firehoseDestination`` (three ARNs, all required) is ACTIVE at once, as Amazon has no confirmation
step for Firehose; with a ``firehose`` delivery (``firehose_delivery``) ``publish`` puts records on its stream.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import Message
from typing import Any, Protocol, TypeVar

from adsbridge.ads.contract import (
    CLIENT_REQUEST_TOKEN_LENGTH,
    DSP_ACCOUNT_HEADER,
    MAX_LIST_RESULTS,
    SCOPE_HEADER,
    SUBSCRIPTION_NOTES_MAX,
)
from adsbridge.stream import datasets

from .model import _now_iso as _now
from .validation import ApiError, bad_request

log = logging.getLogger(__name__)
COUNTED = frozenset({"PROVISIONING", "PENDING_CONFIRMATION", "ACTIVE", "SUSPENDED"})
MAX_PER_DATASET = 2  # per (app, owner, dataset), docs/marketing-stream.md#subscription-limits
_SQS_ARN = re.compile(r"arn:aws:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,80})")
_FIREHOSE_ARNS = {
    "deliveryStreamArn": re.compile(r"arn:aws:firehose:[a-z0-9-]+:\d{12}:deliverystream/[A-Za-z0-9_.-]{1,64}"),
    "subscriptionRoleArn": re.compile(r"arn:aws:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,64}"),
    "subscriberRoleArn": re.compile(r"arn:aws:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,64}"),
}
_CREATE_KEYS = frozenset({"clientRequestToken", "dataSetId", "destination", "destinationArn", "notes"})
MAX_BATCH_ENTRIES = 10  # SendMessageBatch limits
MAX_BATCH_BYTES = 262_144
_NO_QUEUE = frozenset({"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"})


class Delivery(Protocol):
    """Puts message bodies on the queue named by an SQS ARN."""

    def send(self, queue_arn: str, body: str) -> None: ...

    def send_batch(self, queue_arn: str, bodies: Sequence[str]) -> None:
        """Deliver every body (in order, as far as the queue keeps order) or raise."""
        ...


class RecordDelivery(Protocol):
    """Puts records on the Firehose delivery stream an ARN names."""

    def put(self, stream_arn: str, records: Sequence[bytes]) -> None: ...


class DeliveryError(RuntimeError):
    """Some messages could not be put on the queue; ``undelivered`` says how many."""

    def __init__(self, message: str, undelivered: int) -> None:
        super().__init__(message)
        self.undelivered = undelivered


class SqsDelivery:
    """Delivery through boto3 SQS clients (moto in tests); ``client_for(region)`` builds one per region.

    Clients and queue URLs are cached (a queue re-created under the same name keeps its URL) and bodies go
    out through ``SendMessageBatch``: one lookup and one call per 10 messages instead of two per message,
    which is what makes a stream through moto's HTTP server fast. A send that finds the queue gone drops
    the cached URL and looks it up once more; entries a batch reports as ``Failed`` are resent up to
    ``attempts`` times in all, then :class:`DeliveryError` says how many were not delivered.
    """

    def __init__(self, client_for: Callable[[str], Any], *, attempts: int = 3) -> None:
        self._client_for = client_for
        self._attempts = attempts
        self._clients: dict[str, Any] = {}
        self._urls: dict[str, str] = {}
        self._lock = threading.Lock()

    def send(self, queue_arn: str, body: str) -> None:
        self.send_batch(queue_arn, [body])

    def send_batch(self, queue_arn: str, bodies: Sequence[str]) -> None:
        groups = batches(bodies)
        for index, group in enumerate(groups):
            failed = self._send_group(queue_arn, group)
            if failed:
                unsent = sum(len(g) for g in groups[index + 1 :])
                total = len(failed) + unsent
                reasons = "; ".join(sorted({f"{f.get('Code')}: {f.get('Message', '')}" for f in failed}))
                raise DeliveryError(
                    f"{total} of {len(bodies)} message(s) to {queue_arn} not delivered: {len(failed)} still failed "
                    f"after {self._attempts} attempts ({reasons}), {unsent} not attempted",
                    total,
                )

    def _send_group(self, queue_arn: str, group: list[str]) -> list[dict[str, Any]]:
        """Send one batch, resending failed entries; returns the entries that failed on the last attempt."""
        pending = {str(i): body for i, body in enumerate(group)}
        failed: list[dict[str, Any]] = []
        for _ in range(self._attempts):
            entries = [{"Id": key, "MessageBody": body} for key, body in pending.items()]
            failed = list(self._call(queue_arn, entries).get("Failed") or [])
            pending = {f["Id"]: pending[f["Id"]] for f in failed}
            if not pending:
                return []
        return failed

    def _call(self, queue_arn: str, entries: list[dict[str, str]]) -> Any:
        client = self._client(queue_arn.split(":")[3])
        try:
            return client.send_message_batch(QueueUrl=self._url(client, queue_arn), Entries=entries)
        except Exception as exc:
            if _error_code(exc) not in _NO_QUEUE or self._urls.pop(queue_arn, None) is None:
                raise
        return client.send_message_batch(QueueUrl=self._url(client, queue_arn), Entries=entries)

    def _client(self, region: str) -> Any:
        with self._lock:
            client = self._clients.get(region)
        if client is None:
            client = self._client_for(region)
            with self._lock:
                client = self._clients.setdefault(region, client)
        return client

    def _url(self, client: Any, queue_arn: str) -> str:
        with self._lock:
            url = self._urls.get(queue_arn)
        if url is None:
            _, account, name = queue_arn.split(":")[3:]
            url = str(client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])
            with self._lock:
                self._urls[queue_arn] = url
        return url


_Body = TypeVar("_Body", str, bytes)


def batches(
    bodies: Sequence[_Body], max_entries: int = MAX_BATCH_ENTRIES, max_bytes: int = MAX_BATCH_BYTES
) -> list[list[_Body]]:
    """Consecutive groups within a batch call's limits, by default SQS's ``SendMessageBatch``: 10 entries and
    256 KiB of bodies.

    A body over the limit on its own goes alone, for the service to refuse by name rather than us to drop it.
    """
    groups: list[list[_Body]] = []
    group: list[_Body] = []
    size = 0
    for body in bodies:
        length = len(body.encode() if isinstance(body, str) else body)
        if group and (len(group) == max_entries or size + length > max_bytes):
            groups.append(group)
            group, size = [], 0
        group.append(body)
        size += length
    if group:
        groups.append(group)
    return groups


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


@dataclass(frozen=True)
class Owner:
    id: str
    dsp: bool


@dataclass
class _Subscription:
    subscription_id: str
    owner: Owner
    dataset_id: str
    queue_arn: str
    request_token: str
    request: tuple[str, str, str]  # dataset, queue, notes: what an idempotent retry must repeat
    notes: str
    topic_arn: str
    confirm_token: str
    status: str
    created: str
    updated: str
    firehose: dict[str, str] | None = None  # a firehoseDestination; queue_arn then holds its deliveryStreamArn

    def to_json(self) -> dict[str, Any]:
        return {
            "createdDate": self.created,
            "dataSetId": self.dataset_id,
            "destination": (
                {"firehoseDestination": self.firehose}
                if self.firehose
                else {"sqsDestination": {"queueArn": self.queue_arn}}
            ),
            "destinationArn": self.queue_arn,
            "notes": self.notes,
            "status": self.status,
            "subscriptionId": self.subscription_id,
            "updatedDate": self.updated,
        }


_ERROR_CODES = {400: "INVALID_REQUEST", 401: "UNAUTHORIZED", 403: "ACCESS_FORBIDDEN", 404: "NOT_FOUND"}


def with_code(error: ApiError) -> ApiError:
    """``error`` shaped as the subscriptions model shapes its errors: ``code`` and ``message``."""
    message = str(error.body.get("message", error))
    return ApiError(error.status, message, body={"code": _ERROR_CODES.get(error.status, "ERROR"), "message": message})


def owner_from_headers(headers: Message, dsp: bool) -> Owner:
    """The profile (Scope header) or DSP advertiser (account header) a call is for; 400 when missing."""
    name = DSP_ACCOUNT_HEADER if dsp else SCOPE_HEADER
    value = (headers.get(name) or "").strip()
    if not value:
        raise ApiError(400, f"{name} header is required")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        bad_request(f"{name} is not a valid {'advertiser' if dsp else 'profile'} id")
    return Owner(value, dsp)


class Subscriptions:
    """Thread-safe subscription store for one realm; ``delivery`` (optional) receives SNS messages."""

    def __init__(
        self,
        realm: datasets.Realm = datasets.Realm.NA,
        delivery: Delivery | None = None,
        firehose: RecordDelivery | None = None,
    ) -> None:
        self.realm = realm
        self.delivery = delivery
        self.firehose = firehose
        self._lock = threading.RLock()
        self._items: dict[str, _Subscription] = {}

    # ------------------------------------------------------------------ API

    def create(self, owner: Owner, body: dict[str, Any]) -> dict[str, Any]:
        token, dataset, (queue_arn, firehose), notes = self._validate_create(owner, body)
        with self._lock:
            same = next((s for s in self._items.values() if s.owner == owner and s.request_token == token), None)
            if same is not None:
                if same.request != (dataset.id, queue_arn, notes):
                    bad_request(f"clientRequestToken was already used for {same.subscription_id} with another request")
                return {"subscriptionId": same.subscription_id, "clientRequestToken": token}
            live = [
                s
                for s in self._items.values()
                if s.owner == owner and s.dataset_id == dataset.id and s.status in COUNTED
            ]
            clash = next((s for s in live if s.queue_arn == queue_arn), None)
            if clash is not None:
                bad_request(
                    f"Subscription limit: {clash.subscription_id} already delivers {dataset.id} for "
                    f"{owner.id} to this destination (1 per destination)"
                )
            if len(live) >= MAX_PER_DATASET:
                ids = ", ".join(s.subscription_id for s in live)
                bad_request(
                    f"Subscription limit: {owner.id} already has {MAX_PER_DATASET} subscriptions to "
                    f"{dataset.id} ({ids}); archive one first"
                )
            now = _now()
            sub = _Subscription(
                subscription_id="amzn1.fead.cs1." + secrets.token_urlsafe(16),
                owner=owner,
                dataset_id=dataset.id,
                queue_arn=queue_arn,
                request_token=token,
                request=(dataset.id, queue_arn, notes),
                notes=notes,
                topic_arn=f"arn:aws:sns:{self.realm.aws_region}:{dataset.accounts[self.realm]}:{dataset.id}-stream",
                confirm_token=secrets.token_hex(64),
                status="ACTIVE" if firehose else "PENDING_CONFIRMATION",
                created=now,
                updated=now,
                firehose=firehose,
            )
            self._items[sub.subscription_id] = sub
        if self.delivery is not None and not firehose:
            try:
                self.delivery.send(queue_arn, json.dumps(_confirmation_message(sub)))
            except Exception as exc:  # as on Amazon: it stays pending (docs/marketing-stream.md#confirmation)
                log.warning("emulator: confirmation for %s not delivered: %s", sub.subscription_id, exc)
        return {"subscriptionId": sub.subscription_id, "clientRequestToken": token}

    def get(self, owner: Owner, subscription_id: str) -> dict[str, Any]:
        with self._lock:
            return {"subscription": self._owned(owner, subscription_id).to_json()}

    def list(self, owner: Owner, max_results: str | None, starting_token: str | None) -> dict[str, Any]:
        size = _max_results(max_results)
        with self._lock:
            mine = [s for s in self._items.values() if s.owner == owner]
        start = 0
        if starting_token is not None:
            if not starting_token.isdigit() or int(starting_token) > len(mine):
                bad_request("startingToken is not a token this API returned")
            start = int(starting_token)
        page: dict[str, Any] = {"subscriptions": [s.to_json() for s in mine[start : start + size]]}
        if start + size < len(mine):
            page["nextToken"] = str(start + size)
        return page

    def update(self, owner: Owner, subscription_id: str, body: dict[str, Any]) -> None:
        """The model's UpdateStreamSubscription: new notes, and/or status ARCHIVED (the only one a client sets)."""
        unknown = sorted(set(body) - {"status", "notes"})
        if unknown:
            bad_request(f"Unknown field(s): {', '.join(unknown)}")
        if not body:
            bad_request("Nothing to update: send status ARCHIVED and/or notes")
        if body.get("status", "ARCHIVED") != "ARCHIVED":
            bad_request("status: ARCHIVED is the only value a client may set")
        notes = _notes(body)
        with self._lock:
            sub = self._owned(owner, subscription_id)
            if "status" in body:
                sub.status = "ARCHIVED"
            sub.updated = _now()
            if "notes" in body:
                sub.notes = notes

    # ------------------------------------------------------------------ SNS side and test helpers

    def confirm(self, topic_arn: str, token: str) -> str:
        """SNS ``ConfirmSubscription``: PENDING_CONFIRMATION → ACTIVE; returns the SNS subscription ARN."""
        with self._lock:
            sub = next((s for s in self._items.values() if s.confirm_token == token), None)
            if sub is None or sub.topic_arn != topic_arn:
                raise ValueError("InvalidParameter: Invalid token")
            if sub.status == "PENDING_CONFIRMATION":
                sub.status, sub.updated = "ACTIVE", _now()
            return f"{topic_arn}:{sub.subscription_id.rsplit('.', 1)[-1]}"

    def set_status(self, subscription_id: str, status: str) -> None:
        """Force a status Amazon sets on its own (SUSPENDED, FAILED_CONFIRMATION, ...)."""
        with self._lock:
            sub = self._items[subscription_id]
            sub.status, sub.updated = status, _now()

    def status(self, subscription_id: str) -> str:
        with self._lock:
            return self._items[subscription_id].status

    def publish(self, dataset_id: str, records: Iterable[Mapping[str, Any]], *, envelope: bool = False) -> int:
        """Deliver each record to every ACTIVE subscription of the dataset; raw JSON or an SNS Notification to a
        queue, always the bare record to a Firehose stream (when the emulator has a Firehose delivery).

        Each subscription gets the records in order through one batched send; a failure raises.
        """
        if self.delivery is None:
            raise RuntimeError("the emulator was started without an SQS delivery")
        with self._lock:
            targets = [
                s
                for s in self._items.values()
                if s.dataset_id == dataset_id and s.status == "ACTIVE" and (self.firehose or not s.firehose)
            ]
        rows = list(records)
        for sub in targets:
            if sub.firehose and self.firehose is not None:
                self.firehose.put(sub.queue_arn, [json.dumps(dict(r)).encode() for r in rows])
                continue
            bodies = [json.dumps(_notification(sub, r) if envelope else dict(r)) for r in rows]
            self.delivery.send_batch(sub.queue_arn, bodies)
        return len(rows) * len(targets)

    # ------------------------------------------------------------------ internals

    def _owned(self, owner: Owner, subscription_id: str) -> _Subscription:
        sub = self._items.get(subscription_id)
        if sub is None or sub.owner != owner:
            raise ApiError(404, f"Subscription {subscription_id} was not found")
        return sub

    def _validate_create(
        self, owner: Owner, body: dict[str, Any]
    ) -> tuple[str, datasets.Dataset, tuple[str, dict[str, str] | None], str]:
        unknown = sorted(set(body) - _CREATE_KEYS)
        if unknown:
            bad_request(f"Unknown field(s): {', '.join(unknown)}")
        token = body.get("clientRequestToken")
        low, high = CLIENT_REQUEST_TOKEN_LENGTH
        if not isinstance(token, str) or not low <= len(token) <= high:
            bad_request(
                f"clientRequestToken is required: a string of {low} to {high} characters (a GUID is recommended)"
            )
        dataset_id = body.get("dataSetId")
        if not isinstance(dataset_id, str):
            bad_request("dataSetId is required")
        try:
            dataset = datasets.get(dataset_id)
        except datasets.UnknownDataset:
            bad_request(f"dataSetId {dataset_id[:80]!r} is not a Marketing Stream dataset")
        if dataset.is_dsp != owner.dsp:
            where = "/dsp/streams/subscriptions" if dataset.is_dsp else "/streams/subscriptions"
            bad_request(f"dataSetId {dataset.id} must be subscribed through {where}")
        destination = _firehose_destination(body) or (_destination(body), None)
        region = destination[0].split(":")[3]
        if region != self.realm.aws_region:
            bad_request(f"destination is in {region}; {self.realm} data is delivered only to {self.realm.aws_region}")
        return token, dataset, destination, _notes(body)


class EmulatorSns:
    """The slice of a boto3 SNS client the ingest confirmer calls, answering for the emulator's topics."""

    def __init__(self, subscriptions: Subscriptions) -> None:
        self._subscriptions = subscriptions

    def confirm_subscription(self, *, TopicArn: str, Token: str, AuthenticateOnUnsubscribe: str = "false") -> Any:
        return {"SubscriptionArn": self._subscriptions.confirm(TopicArn, Token)}


def _firehose_destination(body: Mapping[str, Any]) -> tuple[str, dict[str, str]] | None:
    """(deliveryStreamArn, the whole firehoseDestination) when the body names one; None for an SQS destination."""
    destination = body.get("destination")
    if not isinstance(destination, dict) or "firehoseDestination" not in destination:
        return None
    firehose = destination["firehoseDestination"]
    if set(destination) != {"firehoseDestination"} or "destinationArn" in body or not isinstance(firehose, dict):
        bad_request('destination must be {"firehoseDestination": {...}} alone')
    if set(firehose) != set(_FIREHOSE_ARNS):
        bad_request(f"firehoseDestination needs exactly {', '.join(sorted(_FIREHOSE_ARNS))}")
    for key, pattern in _FIREHOSE_ARNS.items():
        if not isinstance(firehose[key], str) or not pattern.fullmatch(firehose[key]):
            bad_request(f"firehoseDestination.{key} is not a valid ARN")
    return firehose["deliveryStreamArn"], dict(firehose)


def _destination(body: Mapping[str, Any]) -> str:
    """The SQS ARN from ``destination.sqsDestination.queueArn`` or the onboarding guide's ``destinationArn``."""
    destination = body.get("destination")
    nested = None
    if destination is not None:
        sqs = destination.get("sqsDestination") if isinstance(destination, dict) else None
        if not isinstance(sqs, dict) or set(destination) != {"sqsDestination"}:
            bad_request('destination must be {"sqsDestination": {"queueArn": ...}} or {"firehoseDestination": {...}}')
        nested = sqs.get("queueArn")
    flat = body.get("destinationArn")
    if nested is not None and flat is not None and nested != flat:
        bad_request("destinationArn and destination.sqsDestination.queueArn disagree")
    arn = nested if nested is not None else flat
    if not isinstance(arn, str) or not _SQS_ARN.fullmatch(arn):
        bad_request("destination queueArn is required and must be an SQS queue ARN (FIFO queues are not supported)")
    return arn


def _notes(body: Mapping[str, Any]) -> str:
    notes = body.get("notes", "")
    if not isinstance(notes, str) or len(notes) > SUBSCRIPTION_NOTES_MAX:
        bad_request(f"notes must be a string of at most {SUBSCRIPTION_NOTES_MAX} characters")
    return notes


def _max_results(text: str | None) -> int:
    if text is None:
        return MAX_LIST_RESULTS
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIST_RESULTS:
        bad_request(f"maxResults must be an integer from 1 to {MAX_LIST_RESULTS}")
    return int(text)


def _confirmation_message(sub: _Subscription) -> dict[str, str]:
    region = sub.topic_arn.split(":")[3]
    return {
        "Type": "SubscriptionConfirmation",
        "MessageId": secrets.token_hex(16),
        "Token": sub.confirm_token,
        "TopicArn": sub.topic_arn,
        "Message": f"You have chosen to subscribe to the topic {sub.topic_arn}.To confirm the subscription, "
        "visit the SubscribeURL included in this message.",
        "SubscribeURL": f"https://sns.{region}.amazonaws.com/?Action=ConfirmSubscription&TopicArn={sub.topic_arn}"
        f"&Token={sub.confirm_token}",
        "Timestamp": _now(),
        "SignatureVersion": "1",
        "Signature": "EMULATOR",
        "SigningCertURL": f"https://sns.{region}.amazonaws.com/SimpleNotificationService-emulator.pem",
    }


def _notification(sub: _Subscription, record: Mapping[str, Any]) -> dict[str, str]:
    return {
        "Type": "Notification",
        "MessageId": secrets.token_hex(16),
        "TopicArn": sub.topic_arn,
        "Message": json.dumps(dict(record)),
        "Timestamp": _now(),
    }
