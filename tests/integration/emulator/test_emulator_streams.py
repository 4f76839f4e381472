"""The emulator's Marketing Stream subscriptions API over raw HTTP: headers, media types, bodies, limits, statuses."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from adsbridge.emulator import Emulator

SP = "application/vnd.MarketingStreamSubscriptions.StreamSubscriptionResource.v1.0+json"
DSP = "application/vnd.MarketingStreamSubscriptions.DspStreamSubscriptionResource.v1.0+json"
OPENAPI = "application/vnd.amazonmarketingstreamsubscriptions.v1+json"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:adsbridge-sp-traffic"
OTHER_QUEUE = "arn:aws:sqs:us-east-1:123456789012:adsbridge-sp-traffic-2"
PROFILE = {"Amazon-Advertising-API-Scope": "3519471835403213"}


class Streams:
    def __init__(self, api: Any) -> None:
        self.api = api

    def create(
        self, body: dict[str, Any] | None = None, *, path: str = "/streams/subscriptions", **headers: str
    ) -> requests.Response:
        body = body if body is not None else sub_body()
        all_headers = {**PROFILE, **headers}
        return self.api.call("POST", path, body, content_type=all_headers.pop("ct", SP), headers=all_headers)

    def get(self, subscription_id: str, **headers: str) -> requests.Response:
        return self.api.call("GET", f"/streams/subscriptions/{subscription_id}", headers={**PROFILE, **headers})


def sub_body(token: str = "token-1", dataset: str = "sp-traffic", queue: str = QUEUE, **extra: Any) -> dict[str, Any]:
    return {
        "clientRequestToken": token,
        "dataSetId": dataset,
        "destination": {"sqsDestination": {"queueArn": queue}},
        **extra,
    }


@pytest.fixture
def streams(api: Any) -> Streams:
    return Streams(api)


def test_create_then_get_shows_pending_confirmation(streams: Streams) -> None:
    created = streams.create(sub_body(notes="hello"))
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["clientRequestToken"] == "token-1"
    assert body["subscriptionId"].startswith("amzn1.fead.cs1.")
    got = streams.get(body["subscriptionId"]).json()["subscription"]
    assert got["status"] == "PENDING_CONFIRMATION"
    assert got["destinationArn"] == QUEUE == got["destination"]["sqsDestination"]["queueArn"]
    assert (got["dataSetId"], got["notes"]) == ("sp-traffic", "hello")


def test_onboarding_guide_destination_arn_form_is_accepted(streams: Streams) -> None:
    body = {"clientRequestToken": "t", "dataSetId": "sp-traffic", "destinationArn": QUEUE}
    assert streams.create(body).status_code == 200


def test_openapi_media_type_is_accepted(streams: Streams) -> None:
    assert streams.create(ct=OPENAPI).status_code == 200


@pytest.mark.parametrize(
    ("headers", "status", "text"),
    [
        ({"ct": "application/json"}, 415, "Content-Type must be"),
        ({"ct": DSP}, 415, "Content-Type must be"),
        ({"Accept": "application/xml"}, 406, "Accept must allow"),
        ({"Amazon-Advertising-API-Scope": ""}, 400, "Amazon-Advertising-API-Scope header is required"),
    ],
)
def test_header_problems_are_refused(streams: Streams, headers: dict[str, str], status: int, text: str) -> None:
    response = streams.create(**headers)
    assert response.status_code == status
    assert text in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"dataSetId": "sp-traffic", "destinationArn": QUEUE}, "clientRequestToken is required"),
        (sub_body(dataset="sp-nope"), "is not a Marketing Stream dataset"),
        (sub_body(dataset="adsp-traffic"), "must be subscribed through /dsp/streams/subscriptions"),
        (sub_body(queue="arn:aws:sqs:eu-west-1:123456789012:q"), "delivered only to us-east-1"),
        (sub_body(queue="arn:aws:sqs:us-east-1:123456789012:q.fifo"), "must be an SQS queue ARN"),
        (sub_body(destinationArn=OTHER_QUEUE), "disagree"),
        (sub_body(extra=1), "Unknown field(s): extra"),
        (
            {**sub_body(), "destination": {"firehoseDestination": {"deliveryStreamArn": "x"}}},
            "Firehose is not emulated",
        ),
    ],
)
def test_bad_bodies_are_refused(streams: Streams, body: dict[str, Any], text: str) -> None:
    response = streams.create(body)
    assert response.status_code == 400
    assert text in response.json()["message"]


def test_same_token_returns_the_same_subscription_and_a_changed_request_is_refused(streams: Streams) -> None:
    first = streams.create().json()["subscriptionId"]
    assert streams.create().json()["subscriptionId"] == first
    reused = streams.create(sub_body(queue=OTHER_QUEUE))
    assert reused.status_code == 400
    assert "already used" in reused.json()["message"]


def test_limits_one_per_destination_and_two_per_dataset(streams: Streams, emu: Emulator) -> None:
    first = streams.create(sub_body("a")).json()["subscriptionId"]
    duplicate = streams.create(sub_body("b"))
    assert duplicate.status_code == 400
    assert f"{first} already delivers sp-traffic" in duplicate.json()["message"]
    assert streams.create(sub_body("c", queue=OTHER_QUEUE)).status_code == 200
    third = streams.create(sub_body("d", queue=QUEUE.replace("traffic", "traffic-3")))
    assert third.status_code == 400
    assert "already has 2 subscriptions to sp-traffic" in third.json()["message"]
    # Another profile is not affected; an archived subscription stops counting.
    assert streams.create(sub_body("e"), **{"Amazon-Advertising-API-Scope": "42"}).status_code == 200
    archive = streams.api.call(
        "PUT", f"/streams/subscriptions/{first}", {"status": "ARCHIVED"}, content_type=SP, headers=PROFILE
    )
    assert archive.status_code == 200, archive.text
    assert emu.subscriptions.status(first) == "ARCHIVED"
    assert streams.create(sub_body("f")).status_code == 200


def test_archive_is_the_only_update(streams: Streams) -> None:
    sid = streams.create().json()["subscriptionId"]
    response = streams.api.call(
        "PUT", f"/streams/subscriptions/{sid}", {"status": "ACTIVE"}, content_type=SP, headers=PROFILE
    )
    assert response.status_code == 400
    assert "ARCHIVED is the only value" in response.json()["message"]


def test_subscriptions_are_private_to_their_profile(streams: Streams) -> None:
    sid = streams.create().json()["subscriptionId"]
    assert streams.get(sid, **{"Amazon-Advertising-API-Scope": "42"}).status_code == 404


def test_list_pages_with_next_token(streams: Streams) -> None:
    for n, dataset in enumerate(("sp-traffic", "sp-conversion", "sd-traffic")):
        assert streams.create(sub_body(f"t{n}", dataset=dataset, queue=QUEUE + str(n))).status_code == 200
    first = streams.api.call("GET", "/streams/subscriptions", headers=PROFILE, params={"maxResults": "2"}).json()
    assert len(first["subscriptions"]) == 2
    rest = streams.api.call(
        "GET",
        "/streams/subscriptions",
        headers=PROFILE,
        params={"maxResults": "2", "startingToken": first["nextToken"]},
    ).json()
    assert [s["dataSetId"] for s in rest["subscriptions"]] == ["sd-traffic"]
    assert "nextToken" not in rest
    bad = streams.api.call("GET", "/streams/subscriptions", headers=PROFILE, params={"maxResults": "0"})
    assert bad.status_code == 400


@pytest.mark.parametrize("header", ["Amazon-Advertising-API-Account-ID", "Amazon-Ads-AccountId"])
def test_dsp_path_takes_the_account_header_in_either_spelling(streams: Streams, header: str) -> None:
    body = sub_body(dataset="adsp-traffic", queue=QUEUE.replace("sp-traffic", "adsp-traffic"))
    response = streams.api.call(
        "POST", "/dsp/streams/subscriptions", body, content_type=DSP, headers={header: "585193847120"}
    )
    assert response.status_code == 200, response.text
    missing = streams.api.call("POST", "/dsp/streams/subscriptions", body, content_type=DSP)
    assert missing.status_code == 400
    assert "Amazon-Advertising-API-Account-ID or Amazon-Ads-AccountId" in missing.json()["message"]
    sponsored = streams.create(
        sub_body(dataset="sp-traffic"), path="/dsp/streams/subscriptions", ct=DSP, **{header: "585193847120"}
    )
    assert "must be subscribed through /streams/subscriptions" in sponsored.json()["message"]


def test_subscription_endpoints_need_a_token(streams: Streams) -> None:
    response = streams.api.call("GET", "/streams/subscriptions", headers={**PROFILE, "Authorization": ""})
    assert response.status_code == 401


def test_confirm_needs_the_right_topic_and_token(emu: Emulator, streams: Streams) -> None:
    sid = streams.create().json()["subscriptionId"]
    with pytest.raises(ValueError, match="Invalid token"):
        emu.sns.confirm_subscription(TopicArn="arn:aws:sns:us-east-1:1:x", Token="nope")
    assert emu.subscriptions.status(sid) == "PENDING_CONFIRMATION"
