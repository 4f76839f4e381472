"""Marketing Stream v2 subscriptions API: what is known, each fact once, and what is UNVERIFIED, each guess once.

Known (docs/amazon-api-models.md#marketing-stream-v2-subscriptions): the four operations are ``POST
/adsApi/v1/{create,query,retrieve,delete}/streamSubscriptions`` with bodies ``accessRequestedAccounts`` plus
``streamSubscriptions`` / ``maxResults`` and ``nextToken`` / ``streamSubscriptionIds`` (a client generated from
Amazon's API model), and the destination value ``{"bucketArn", "notification": {"queueArn"}}`` (Amazon's v2
CloudFormation template). Everything else below marked UNVERIFIED is adsbridge's guess: the client, the emulator,
the custom resource and the monitor all read it from here, so when Amazon's model is found a correction is one
edit in this module (and the tests that pin the guesses).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from adsbridge.ads.contract import check_subscription_id
from adsbridge.ads.errors import ContractError

# --------------------------------------------------------------------------- known: paths and body fields
PATHS = {op: f"/adsApi/v1/{op}/streamSubscriptions" for op in ("create", "query", "retrieve", "delete")}
ACCOUNTS_FIELD = "accessRequestedAccounts"
SUBSCRIPTIONS_FIELD = "streamSubscriptions"
IDS_FIELD = "streamSubscriptionIds"
MAX_RESULTS_FIELD = "maxResults"
NEXT_TOKEN_FIELD = "nextToken"
DATASET_PERFORMANCE = "ads-performance-v1"  # the one v2 dataset named so far
DATASETS = frozenset({DATASET_PERFORMANCE})  # what adsbridge subscribes; other v2 datasets are unconfirmed
# Where Amazon's v2 template may be deployed, per realm.
REGIONS = {
    "NA": ("us-east-1",),
    "EU": ("eu-west-1", "eu-west-2", "eu-south-2"),
    "FE": ("us-west-2", "ap-southeast-1"),
}

# --------------------------------------------------------------------------- UNVERIFIED guesses, one each
# The media type: the adsApi/v1 operations are plain JSON in the generated client (no vendor type seen).
MEDIA_TYPE = "application/json"
# An accessRequestedAccounts item: the shape other Ads API v1 endpoints use.
ACCOUNT_ID_KEY = "advertiserAccountId"
# The advertiser account id format: amzn1.ads-account.g.<letters and digits>.
ADVERTISER_ACCOUNT_ID = re.compile(r"amzn1\.ads-account\.g\.[A-Za-z0-9]{1,64}")
# A streamSubscriptions item: these keys, borrowed from the v1 model's subscription.
DATASET_KEY = "dataSetId"
DESTINATION_KEY = "destination"
CLIENT_REQUEST_TOKEN_KEY = "clientRequestToken"  # whether v2 has one at all is UNVERIFIED
CLIENT_REQUEST_TOKEN_LENGTH = (22, 36)  # as in v1
# Responses: create, retrieve and delete answer multi-status {"success": [{"index", "streamSubscription"}],
# "error": [{"index", "errors": [{"code", "message"}]}]}; query answers {"streamSubscriptions", "nextToken"};
# an item carries its id under ID_KEY and its state under STATUS_KEY.
SUCCESS_KEY = "success"
ERROR_KEY = "error"
ITEM_KEY = "streamSubscription"
ID_KEY = "streamSubscriptionId"
STATUS_KEY = "status"
CREATED_KEY = "createdTime"
UPDATED_KEY = "updatedTime"
# Statuses: no SNS confirmation in v2, so no PENDING_CONFIRMATION; DELETE archives.
STATUSES = ("PROVISIONING", "ACTIVE", "FAILED_PROVISIONING", "SUSPENDED", "ARCHIVED")
LIVE_STATUSES = frozenset({"PROVISIONING", "ACTIVE"})
ALARM_STATUSES = frozenset({"FAILED_PROVISIONING", "SUSPENDED"})  # the hourly monitor warns and alarms on these
ARCHIVED = "ARCHIVED"
NOT_FOUND_CODE = "NOT_FOUND"  # the error code of an id the account does not have
# Bounds: a query page as in v1's model; ids per retrieve or delete call, adsbridge's own cap.
MAX_RESULTS = 5_000
MAX_IDS_PER_CALL = 100

_BUCKET_ARN = re.compile(r"arn:aws:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_QUEUE_ARN = re.compile(r"arn:aws:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,80}")


def check_account(account_id: str) -> None:
    """An advertiser account id as Amazon issues them (never echoed: it travels only in the body)."""
    if not ADVERTISER_ACCOUNT_ID.fullmatch(account_id):
        raise ContractError("advertiser_account_id: must look like amzn1.ads-account.g.<letters and digits>")


def accounts(account_id: str) -> list[dict[str, str]]:
    check_account(account_id)
    return [{ACCOUNT_ID_KEY: account_id}]


def destination(bucket_arn: str, queue_arn: str) -> dict[str, Any]:
    """The value Amazon's v2 template outputs as ``StreamDestinationConfiguration`` for the create request."""
    if not _BUCKET_ARN.fullmatch(bucket_arn):
        raise ContractError("bucketArn: must be an S3 bucket ARN, arn:aws:s3:::<bucket>")
    if not _QUEUE_ARN.fullmatch(queue_arn):
        raise ContractError("notification.queueArn: must be a standard SQS queue ARN")
    return {"bucketArn": bucket_arn, "notification": {"queueArn": queue_arn}}


def subscription_item(dataset_id: str, bucket_arn: str, queue_arn: str, token: str) -> dict[str, Any]:
    """One ``streamSubscriptions`` item; refuses a token outside the bounds before anything is sent."""
    low, high = CLIENT_REQUEST_TOKEN_LENGTH
    if not low <= len(token) <= high:
        raise ContractError(f"{CLIENT_REQUEST_TOKEN_KEY}: must be {low}-{high} characters, got {len(token)}")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", dataset_id):
        raise ContractError("dataset: must be a v2 dataset id such as ads-performance-v1")
    return {
        CLIENT_REQUEST_TOKEN_KEY: token,
        DATASET_KEY: dataset_id,
        DESTINATION_KEY: destination(bucket_arn, queue_arn),
    }


def check_ids(ids: Sequence[str]) -> None:
    if not 1 <= len(ids) <= MAX_IDS_PER_CALL:
        raise ContractError(f"{IDS_FIELD}: 1-{MAX_IDS_PER_CALL} ids per call, got {len(ids)}")
    for subscription_id in ids:
        check_subscription_id(subscription_id)


def split_results(body: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], list[tuple[str, str]]]:
    """A multi-status answer's items, and its errors as ``(code, message)`` (messages cut to 200 characters)."""
    items = [entry[ITEM_KEY] for entry in body.get(SUCCESS_KEY) or () if isinstance(entry.get(ITEM_KEY), Mapping)]
    errors = [
        (str(error.get("code", "ERROR")), str(error.get("message", ""))[:200])
        for entry in body.get(ERROR_KEY) or ()
        for error in entry.get("errors") or ()
    ]
    return items, errors
