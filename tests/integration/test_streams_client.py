"""The Marketing Stream subscriptions client against the emulator: headers, pagination, retries, limits."""

from __future__ import annotations

import random

import pytest

from adsbridge.ads import AdsSession, ApiError, LwaCredentials, Owner, RetryPolicy, StreamsClient, TokenProvider
from adsbridge.ads.contract import DSP_ACCOUNT_HEADER, SUBSCRIPTIONS_TYPE
from adsbridge_sandbox.emulator import Emulator
from tests.integration.conftest import Sleeps

PROFILE = Owner("3519471835403213")
ADVERTISER = Owner("585193847120", dsp=True)
CFN_REQUEST_ID = "5f3b2f0e-6c1d-4a53-9f55-2b8a1c9e7d10"  # CloudFormation's RequestId: a UUID, 36 characters


def queue(name: str) -> str:
    return f"arn:aws:sqs:us-east-1:123456789012:adsbridge-{name}"


@pytest.fixture
def streams(emulator: Emulator, credentials: LwaCredentials, sleeps: Sleeps) -> StreamsClient:
    tokens = TokenProvider(credentials, emulator.token_url)
    session = AdsSession(emulator.url, tokens, policy=RetryPolicy(max_attempts=5), sleep=sleeps, rng=random.Random(7))
    return StreamsClient(session)


def test_create_get_list_archive(streams: StreamsClient, emulator: Emulator) -> None:
    sid = streams.create(PROFILE, "sp-traffic", queue("sp-traffic"), notes="adsbridge")
    got = streams.get(PROFILE, sid)
    assert (got.dataset_id, got.status, got.destination_arn, got.notes) == (
        "sp-traffic",
        "PENDING_CONFIRMATION",
        queue("sp-traffic"),
        "adsbridge",
    )
    streams.archive(PROFILE, sid)
    assert [s.status for s in streams.list(PROFILE)] == ["ARCHIVED"]
    sent = [r for r in emulator.request_log() if r.path.startswith("/streams/")]
    assert {r.headers["amazon-advertising-api-scope"] for r in sent} == {PROFILE.id}
    assert {r.headers["accept"] for r in sent} == {"application/vnd.amazonmarketingstreamsubscriptions.v1+json"}


def test_list_follows_next_token(streams: StreamsClient, emulator: Emulator) -> None:
    datasets = ["sp-traffic", "sp-conversion", "sd-traffic", "sd-conversion", "budget-usage"]
    for dataset in datasets:
        streams.create(PROFILE, dataset, queue(dataset))
    assert sorted(s.dataset_id for s in streams.list(PROFILE, page_size=2)) == sorted(datasets)
    assert sum(r.path == "/streams/subscriptions" and r.method == "GET" for r in emulator.request_log()) == 3


def test_dsp_subscriptions_use_the_dsp_path_and_the_models_header(streams: StreamsClient, emulator: Emulator) -> None:
    sid = streams.create(ADVERTISER, "adsp-traffic", queue("adsp-traffic"))
    assert streams.get(ADVERTISER, sid).status == "PENDING_CONFIRMATION"
    record = emulator.request_log()[-1]
    assert record.path == f"/dsp/streams/subscriptions/{sid}"
    assert record.headers["amazon-ads-account-id"] == ADVERTISER.id
    assert "amazon-advertising-api-account-id" not in record.headers
    assert record.headers["accept"] == "application/vnd.amazonmarketingstreamsubscriptions.v1+json"


def test_media_type_and_dsp_header_are_configurable(streams: StreamsClient, emulator: Emulator) -> None:
    """An operator can follow Amazon if it renames them again; the emulator, like the model, then refuses."""
    alternative = StreamsClient(
        streams.session,
        media_type=SUBSCRIPTIONS_TYPE + "; charset=utf-8",
        dsp_account_header=DSP_ACCOUNT_HEADER.upper(),
    )
    alternative.create(ADVERTISER, "adsp-traffic", queue("adsp-traffic"))
    record = emulator.request_log()[-1]
    assert record.headers["content-type"] == SUBSCRIPTIONS_TYPE + "; charset=utf-8"
    assert record.headers["amazon-ads-account-id"] == ADVERTISER.id
    guide = StreamsClient(streams.session, dsp_account_header="Amazon-Advertising-API-Account-ID")
    with pytest.raises(ApiError, match="Amazon-Ads-Account-ID header is required"):
        guide.create(ADVERTISER, "adsp-traffic", queue("adsp-traffic-2"))


def test_retried_create_keeps_one_subscription(streams: StreamsClient, emulator: Emulator, sleeps: Sleeps) -> None:
    emulator.faults.fail_next(2, 503, path_prefix="/streams")
    first = streams.create(PROFILE, "sp-traffic", queue("sp-traffic"), client_request_token=CFN_REQUEST_ID)
    assert len(sleeps.calls) == 2
    # A caller that lost the answer (a Lambda timeout) sends the same token again and gets the same id.
    again = streams.create(PROFILE, "sp-traffic", queue("sp-traffic"), client_request_token=CFN_REQUEST_ID)
    assert again == first
    assert [s.subscription_id for s in streams.list(PROFILE)] == [first]


def test_limit_errors_are_clear_and_not_retried(streams: StreamsClient, sleeps: Sleeps) -> None:
    streams.create(PROFILE, "sp-traffic", queue("a"))
    streams.create(PROFILE, "sp-traffic", queue("b"))
    with pytest.raises(ApiError) as caught:
        streams.create(PROFILE, "sp-traffic", queue("c"))
    assert caught.value.status == 400
    assert not caught.value.retryable
    assert "already has 2 subscriptions to sp-traffic" in str(caught.value)
    assert sleeps.calls == []


def test_unknown_subscription_is_404(streams: StreamsClient) -> None:
    with pytest.raises(ApiError) as caught:
        streams.get(PROFILE, "amzn1.fead.cs1.nothing")
    assert caught.value.status == 404
