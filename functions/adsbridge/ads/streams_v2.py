"""Marketing Stream v2 subscriptions API: create, query, retrieve, delete (docs/amazon-api-models.md#marketing-stream-v2-subscriptions).

Every operation is a POST naming the advertiser account in the body's ``accessRequestedAccounts``; retries, auth
and errors are AdsSession's, as for v1. Field names, media type, response shapes and statuses that are not in a
public source are guesses kept in ``adsbridge.ads.stream_v2_contract``, so a correction is one edit there.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from adsbridge.ads import stream_v2_contract as v2
from adsbridge.ads.errors import AdsError, ContractError
from adsbridge.ads.session import AdsSession


class SubscriptionRefused(AdsError):
    """The API answered but refused an item (a multi-status error entry); the message lists its codes."""

    def __init__(self, operation: str, errors: Sequence[tuple[str, str]]) -> None:
        self.codes = tuple(code for code, _ in errors)
        detail = "; ".join(f"{code}: {message}" for code, message in errors)
        super().__init__(f"{operation} streamSubscriptions refused: {detail}", retryable=False)


@dataclass(frozen=True)
class SubscriptionV2:
    subscription_id: str
    dataset_id: str
    status: str
    bucket_arn: str
    queue_arn: str
    created: str = ""
    updated: str = ""

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> SubscriptionV2:
        where = item.get(v2.DESTINATION_KEY) or {}
        return cls(
            subscription_id=str(item[v2.ID_KEY]),
            dataset_id=str(item.get(v2.DATASET_KEY, "")),
            status=str(item.get(v2.STATUS_KEY, "UNKNOWN")),
            bucket_arn=str(where.get("bucketArn", "")),
            queue_arn=str((where.get("notification") or {}).get("queueArn", "")),
            created=str(item.get(v2.CREATED_KEY, "")),
            updated=str(item.get(v2.UPDATED_KEY, "")),
        )

    def to_json(self) -> dict[str, str]:
        """Flat for the CLI's table and JSON; the keys are adsbridge's own, not the API's."""
        return {
            "subscriptionId": self.subscription_id,
            "dataSetId": self.dataset_id,
            "status": self.status,
            "bucketArn": self.bucket_arn,
            "queueArn": self.queue_arn,
            "createdDate": self.created,
            "updatedDate": self.updated,
        }


class StreamsV2Client:
    """One advertiser account's v2 subscriptions; every value is checked before it is sent."""

    def __init__(self, session: AdsSession, *, media_type: str = v2.MEDIA_TYPE) -> None:
        self.session = session
        self.media_type = media_type

    def create(
        self,
        account_id: str,
        dataset_id: str,
        bucket_arn: str,
        queue_arn: str,
        *,
        client_request_token: str | None = None,
    ) -> SubscriptionV2:
        """Subscribe a landing bucket and its notification queue to ``dataset_id``.

        The session never re-sends a create that may have been processed: whether v2 honours
        ``clientRequestToken`` is UNVERIFIED, so a caller that retries passes the same token deliberately.
        """
        token = client_request_token or str(uuid.uuid4())
        body = {
            v2.ACCOUNTS_FIELD: v2.accounts(account_id),
            v2.SUBSCRIPTIONS_FIELD: [v2.subscription_item(dataset_id, bucket_arn, queue_arn, token)],
        }
        answer = self._call(
            "create", body, idempotent=False, if_processed="the subscription may have been created: list them"
        )
        return self._one("create", answer)

    def query(self, account_id: str, *, page_size: int = 100) -> Iterator[SubscriptionV2]:
        """Every subscription of the account, following ``nextToken`` page by page."""
        if not 1 <= page_size <= v2.MAX_RESULTS:
            raise ContractError(f"page_size: must be 1-{v2.MAX_RESULTS}, got {page_size}")
        body: dict[str, Any] = {v2.ACCOUNTS_FIELD: v2.accounts(account_id), v2.MAX_RESULTS_FIELD: page_size}
        while True:
            page = self._call("query", body)
            for item in page.get(v2.SUBSCRIPTIONS_FIELD) or ():
                yield SubscriptionV2.from_api(item)
            token = page.get(v2.NEXT_TOKEN_FIELD)
            if not token:
                return
            body = {**body, v2.NEXT_TOKEN_FIELD: str(token)}

    def retrieve(self, account_id: str, subscription_ids: Sequence[str]) -> list[SubscriptionV2]:
        """The named subscriptions; any id the account does not have raises SubscriptionRefused (NOT_FOUND)."""
        return self._by_ids("retrieve", account_id, subscription_ids)

    def get(self, account_id: str, subscription_id: str) -> SubscriptionV2 | None:
        """One subscription, or None when the account has no such id."""
        try:
            return self.retrieve(account_id, [subscription_id])[0]
        except SubscriptionRefused as exc:
            if exc.codes == (v2.NOT_FOUND_CODE,):
                return None
            raise

    def delete(self, account_id: str, subscription_ids: Sequence[str]) -> list[SubscriptionV2]:
        """Archive the named subscriptions (Amazon calls the operation delete; the subscription stays, archived)."""
        return self._by_ids("delete", account_id, subscription_ids)

    def _by_ids(self, operation: str, account_id: str, subscription_ids: Sequence[str]) -> list[SubscriptionV2]:
        ids = list(subscription_ids)
        v2.check_ids(ids)
        answer = self._call(operation, {v2.ACCOUNTS_FIELD: v2.accounts(account_id), v2.IDS_FIELD: ids})
        items, errors = v2.split_results(answer)
        if errors:
            raise SubscriptionRefused(operation, errors)
        return [SubscriptionV2.from_api(item) for item in items]

    def _one(self, operation: str, answer: Mapping[str, Any]) -> SubscriptionV2:
        items, errors = v2.split_results(answer)
        if errors or len(items) != 1:
            raise SubscriptionRefused(operation, errors or [("UNEXPECTED", f"{len(items)} items in the answer")])
        return SubscriptionV2.from_api(items[0])

    def _call(self, operation: str, body: Mapping[str, Any], **options: Any) -> Any:
        return self.session.call("POST", v2.PATHS[operation], media_type=self.media_type, body=body, **options)
