"""The scheduled-time claim: the first execution for an instant owns it, a retry of the owner keeps it."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from adsbridge.export.schedule_claim import claim_scheduled_time

BUCKET = "state"
TIME = "2026-06-01T00:00:00Z"


@pytest.fixture
def s3(moto_aws: None) -> Any:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


def test_the_first_execution_for_an_instant_owns_it(s3: Any) -> None:
    assert claim_scheduled_time(s3, BUCKET, "crm", TIME, "first")
    assert not claim_scheduled_time(s3, BUCKET, "crm", TIME, "second")
    assert claim_scheduled_time(s3, BUCKET, "crm", "2026-06-08T00:00:00Z", "third")
    assert claim_scheduled_time(s3, BUCKET, "other-job", TIME, "fourth")


def test_a_retried_claim_whose_answer_was_lost_is_still_the_owner(s3: Any) -> None:
    assert claim_scheduled_time(s3, BUCKET, "crm", TIME, "first")
    assert claim_scheduled_time(s3, BUCKET, "crm", TIME, "first")


def test_a_concurrent_write_not_yet_visible_is_the_owner(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """S3 answers 409 ConditionalRequestConflict while another conditional PUT of the key is in flight."""

    def conflict(**_: Any) -> None:
        error = {"Error": {"Code": "ConditionalRequestConflict", "Message": "in flight"}}
        raise s3.exceptions.ClientError(error, "PutObject")

    monkeypatch.setattr(s3, "put_object", conflict)
    assert not claim_scheduled_time(s3, BUCKET, "crm", TIME, "second")
