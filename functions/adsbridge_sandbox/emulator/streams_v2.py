"""Marketing Stream v2 subscriptions in the emulator: ``POST /adsApi/v1/{create,query,retrieve,delete}/...``.

Field names, answer shapes, codes and statuses are the guesses in ``adsbridge.ads.stream_v2_contract`` (read from
there, so the emulator moves with a correction). The emulator's own choices, UNVERIFIED against Amazon: exactly one
``accessRequestedAccounts`` item per call; a malformed request answers 400 ``INVALID_REQUEST`` (as the v1 part
does); a bad item, an id the account does not have, or a second live subscription of one account and dataset to
the same destination is an ``error`` entry of a 207 multi-status answer (codes ``INVALID_REQUEST``, ``NOT_FOUND``);
a subscription is ACTIVE at once (v2 has no confirmation) and delete archives it; the notification queue must be
in one of the realm's v2 regions. With a ``delivery`` (an AWS endpoint), a new subscription gets its files and
notifications (``stream_v2_delivery``); ``delivered`` waits for them.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adsbridge.ads import stream_v2_contract as v2
from adsbridge.ads.errors import ContractError
from adsbridge.stream.datasets import Realm

from .model import _now_iso as _now
from .validation import bad_request

if TYPE_CHECKING:  # the delivery brings pyarrow: imported by whoever builds one
    from adsbridge_sandbox.stream_v2_files import Delivery

    from .stream_v2_delivery import V2Delivery

HISTORY_DAYS = 70  # what Amazon backfills on subscribing (docs/marketing-stream.md#stream-v2-subscriptions)
_ITEM_KEYS = frozenset({v2.CLIENT_REQUEST_TOKEN_KEY, v2.DATASET_KEY, v2.DESTINATION_KEY})


class ItemRefused(ValueError):
    """One item of a multi-status call is refused; ``code`` is its error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class _SubscriptionV2:
    subscription_id: str
    account_id: str
    dataset_id: str
    destination: dict[str, Any]
    token: str
    status: str
    created: str
    updated: str

    def to_json(self) -> dict[str, Any]:
        return {
            v2.ID_KEY: self.subscription_id,
            v2.DATASET_KEY: self.dataset_id,
            v2.DESTINATION_KEY: self.destination,
            v2.STATUS_KEY: self.status,
            v2.CREATED_KEY: self.created,
            v2.UPDATED_KEY: self.updated,
        }


class SubscriptionsV2:
    """Thread-safe v2 subscription store for one realm."""

    def __init__(self, realm: Realm = Realm.NA, delivery: V2Delivery | None = None) -> None:
        self.realm = realm
        self.delivery = delivery
        self._lock = threading.RLock()
        self._items: dict[str, _SubscriptionV2] = {}
        self._deliveries: dict[str, Future[Delivery]] = {}

    def handle(self, operation: str, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """One call: (HTTP status, answer); a malformed request raises the emulator's 400."""
        fields = {
            "create": {v2.SUBSCRIPTIONS_FIELD},
            "query": {v2.MAX_RESULTS_FIELD, v2.NEXT_TOKEN_FIELD},
            "retrieve": {v2.IDS_FIELD},
            "delete": {v2.IDS_FIELD},
        }[operation]
        unknown = sorted(set(body) - fields - {v2.ACCOUNTS_FIELD})
        if unknown:
            bad_request(f"Unknown field(s): {', '.join(unknown)}")
        account = _account(body)
        if operation == "query":
            return 200, self._query(account, body)
        entries = self._entries(operation, body)
        with self._lock:
            results = [self._one(operation, account, entry) for entry in entries]
        return _multi_status(results)

    def set_status(self, subscription_id: str, status: str) -> None:
        """Force a status Amazon sets on its own (FAILED_PROVISIONING, SUSPENDED, ...)."""
        with self._lock:
            sub = self._items[subscription_id]
            sub.status, sub.updated = status, _now()

    def delivered(self, subscription_id: str, timeout: float = 120) -> Delivery:
        """The files delivered to a subscription once its delivery ends (KeyError: none was started)."""
        with self._lock:
            future = self._deliveries[subscription_id]
        return future.result(timeout)

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _entries(operation: str, body: Mapping[str, Any]) -> list[Any]:
        key = v2.SUBSCRIPTIONS_FIELD if operation == "create" else v2.IDS_FIELD
        entries = body.get(key)
        if not isinstance(entries, list) or not 1 <= len(entries) <= v2.MAX_IDS_PER_CALL:
            bad_request(f"{key} is required: a list of 1 to {v2.MAX_IDS_PER_CALL} items")
        return entries

    def _one(self, operation: str, account: str, entry: Any) -> dict[str, Any] | ItemRefused:
        try:
            if operation == "create":
                return self._create(account, entry).to_json()
            sub = self._owned(account, entry)
            if operation == "delete" and sub.status != v2.ARCHIVED:
                sub.status, sub.updated = v2.ARCHIVED, _now()
            return sub.to_json()
        except ItemRefused as exc:
            return exc

    def _create(self, account: str, item: Any) -> _SubscriptionV2:
        token, dataset_id, destination = self._valid_item(item)
        same = next((s for s in self._items.values() if s.account_id == account and s.token == token), None)
        if same is not None:
            if (same.dataset_id, same.destination) != (dataset_id, destination):
                raise ItemRefused("INVALID_REQUEST", f"{v2.CLIENT_REQUEST_TOKEN_KEY} was used for another request")
            return same
        for sub in self._items.values():
            live = sub.status in v2.LIVE_STATUSES
            if live and (sub.account_id, sub.dataset_id, sub.destination) == (account, dataset_id, destination):
                raise ItemRefused(
                    "INVALID_REQUEST", f"{sub.subscription_id} already delivers {dataset_id} to this destination"
                )
        now = _now()
        sub = _SubscriptionV2(
            "amzn1.fead.cs2." + secrets.token_urlsafe(16), account, dataset_id, destination, token, "ACTIVE", now, now
        )
        self._items[sub.subscription_id] = sub
        if self.delivery is not None:  # ACTIVE now: Amazon starts with the history
            self._deliveries[sub.subscription_id] = self.delivery.start(
                sub.destination, lambda: self._items[sub.subscription_id].status == "ACTIVE"
            )
        return sub

    def _valid_item(self, item: Any) -> tuple[str, str, dict[str, Any]]:
        if not isinstance(item, dict):
            raise ItemRefused("INVALID_REQUEST", "a subscription item must be an object")
        unknown = sorted(set(item) - _ITEM_KEYS)
        if unknown:
            raise ItemRefused("INVALID_REQUEST", f"Unknown field(s): {', '.join(unknown)}")
        token, dataset_id, where = (item.get(key) for key in sorted(_ITEM_KEYS))
        low, high = v2.CLIENT_REQUEST_TOKEN_LENGTH
        if not isinstance(token, str) or not low <= len(token) <= high:
            raise ItemRefused("INVALID_REQUEST", f"{v2.CLIENT_REQUEST_TOKEN_KEY}: a string of {low}-{high} characters")
        if dataset_id not in v2.DATASETS:
            raise ItemRefused("INVALID_REQUEST", f"{v2.DATASET_KEY}: not a Marketing Stream v2 dataset")
        if not isinstance(where, dict) or set(where) != {"bucketArn", "notification"}:
            raise ItemRefused("INVALID_REQUEST", f'{v2.DESTINATION_KEY}: must be {{"bucketArn", "notification"}}')
        notification = where["notification"]
        queue_arn = notification.get("queueArn") if isinstance(notification, dict) else None
        try:
            destination = v2.destination(str(where["bucketArn"]), str(queue_arn))
        except ContractError as exc:
            raise ItemRefused("INVALID_REQUEST", f"{v2.DESTINATION_KEY}: {exc}") from None
        if notification != destination["notification"]:
            raise ItemRefused("INVALID_REQUEST", f"{v2.DESTINATION_KEY}.notification: only queueArn is allowed")
        region = str(queue_arn).split(":")[3]
        if region not in v2.REGIONS[self.realm.value]:
            raise ItemRefused("INVALID_REQUEST", f"{region} is not a Stream v2 region of {self.realm}")
        return str(token), str(dataset_id), destination

    def _owned(self, account: str, subscription_id: Any) -> _SubscriptionV2:
        sub = self._items.get(subscription_id) if isinstance(subscription_id, str) else None
        if sub is None or sub.account_id != account:
            raise ItemRefused(v2.NOT_FOUND_CODE, f"Subscription {str(subscription_id)[:80]} was not found")
        return sub

    def _query(self, account: str, body: Mapping[str, Any]) -> dict[str, Any]:
        size = body.get(v2.MAX_RESULTS_FIELD, v2.MAX_RESULTS)
        if type(size) is not int or not 1 <= size <= v2.MAX_RESULTS:
            bad_request(f"{v2.MAX_RESULTS_FIELD} must be an integer from 1 to {v2.MAX_RESULTS}")
        with self._lock:
            mine = [s.to_json() for s in self._items.values() if s.account_id == account]
        token = body.get(v2.NEXT_TOKEN_FIELD)
        start = 0
        if token is not None:
            if not isinstance(token, str) or not token.isdigit() or int(token) > len(mine):
                bad_request(f"{v2.NEXT_TOKEN_FIELD} is not a token this API returned")
            start = int(token)
        page: dict[str, Any] = {v2.SUBSCRIPTIONS_FIELD: mine[start : start + size]}
        if start + size < len(mine):
            page[v2.NEXT_TOKEN_FIELD] = str(start + size)
        return page


def _account(body: Mapping[str, Any]) -> str:
    accounts = body.get(v2.ACCOUNTS_FIELD)
    if not isinstance(accounts, list) or len(accounts) != 1 or not isinstance(accounts[0], dict):
        bad_request(f"{v2.ACCOUNTS_FIELD} is required: one {{{v2.ACCOUNT_ID_KEY!r}: ...}} item")
    account = accounts[0].get(v2.ACCOUNT_ID_KEY)
    if set(accounts[0]) != {v2.ACCOUNT_ID_KEY} or not isinstance(account, str):
        bad_request(f"{v2.ACCOUNTS_FIELD}[0] must be {{{v2.ACCOUNT_ID_KEY!r}: ...}} only")
    if not v2.ADVERTISER_ACCOUNT_ID.fullmatch(account):
        bad_request(f"{v2.ACCOUNT_ID_KEY} is not an advertiser account id")
    return account


def _multi_status(results: list[dict[str, Any] | ItemRefused]) -> tuple[int, dict[str, Any]]:
    success = [{"index": i, v2.ITEM_KEY: r} for i, r in enumerate(results) if not isinstance(r, ItemRefused)]
    error = [
        {"index": i, "errors": [{"code": r.code, "message": str(r)}]}
        for i, r in enumerate(results)
        if isinstance(r, ItemRefused)
    ]
    return (207 if error else 200), {v2.SUCCESS_KEY: success, v2.ERROR_KEY: error}
