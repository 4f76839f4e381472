"""Audience metadata: create (each validation rule), read, update, and the big-integer audienceId."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Api

PATH = "/amc/audiences/metadata"


def test_create_returns_201_with_exact_big_integer_id(api: Api) -> None:
    body = api.audience_body(metadata={"externalAudienceId": "crm-vip"})
    response = api.call("POST", PATH, body)
    assert response.status_code == 201
    parsed = json.loads(response.text)
    assert parsed["externalAudienceId"] == "crm-vip"
    audience_id = parsed["audienceId"]
    assert isinstance(audience_id, int)
    assert 10**17 <= audience_id < 10**18 and audience_id > 2**53
    assert int(float(audience_id)) != audience_id  # a float-parsing client corrupts it


def test_float_corrupted_id_is_not_found(api: Api) -> None:
    audience_id = api.create_audience()
    corrupted = int(float(audience_id))
    assert api.call("GET", f"{PATH}/{corrupted}").status_code == 404
    assert api.call("GET", f"{PATH}/{float(audience_id)}").status_code == 400
    assert api.call("GET", f"{PATH}/{audience_id}").status_code == 200


def test_get_returns_stored_metadata(api: Api) -> None:
    audience_id = api.create_audience(
        name="VIP buyers",
        description="top spenders",
        countryCode="GB",
        metadata={
            "externalAudienceId": "vip-1",
            "ttl": 86400,
            "audienceFees": [{"cpmCents": 150, "currency": "GBP"}],
        },
    )
    response = api.call("GET", f"{PATH}/{audience_id}")
    assert response.status_code == 200
    assert json.loads(response.text) == {
        "advertiserId": 5730214018309201,
        "audienceId": audience_id,
        "countryCode": "GB",
        "description": "top spenders",
        "name": "VIP buyers",
        "metadata": {
            "externalAudienceId": "vip-1",
            "ttl": 86400,
            "audienceFees": [{"cpmCents": 150, "currency": "GBP"}],
            "audienceSize": {"receivedRecordSize": 0, "idResolutionCount": 0, "dspAudienceSize": 0},
        },
    }
    assert api.emu.audience(audience_id)["name"] == "VIP buyers"


def test_connection_target_and_defaults(api: Api) -> None:
    connection_id = api.call("POST", "/amc/audiences/connections", {"amcInstanceId": "amc1"}).json()["connectionId"]
    body = api.audience_body(targetResource={"connectionId": connection_id}, metadata={"externalAudienceId": "c1"})
    del body["countryCode"]
    audience_id = json.loads(api.call("POST", PATH, body).text)["audienceId"]
    stored = api.emu.audience(audience_id)
    assert "advertiserId" not in stored
    assert stored["countryCode"] == "UNKNOWN"
    assert stored["metadata"]["ttl"] == 34300800
    assert stored["metadata"]["audienceFees"] == []


def test_unknown_audience_is_404(api: Api) -> None:
    assert api.call("GET", f"{PATH}/123456789012345678").status_code == 404


def _meta(**fields: Any) -> dict[str, Any]:
    return {"externalAudienceId": "ext-bad", **fields}


INVALID_BODIES: dict[str, dict[str, Any]] = {
    "name-missing": {"name": None},
    "name-empty": {"name": ""},
    "name-9": {"name": "n" * 9},  # the model: 10-128 characters
    "name-129": {"name": "n" * 129},
    "name-not-string": {"name": 12345678901},
    "description-missing": {"description": None},
    "description-1001": {"description": "d" * 1001},
    "description-not-string": {"description": 5},
    "target-missing": {"targetResource": None},
    "target-both": {"targetResource": {"connectionId": "c", "advertiserId": 1}},
    "target-neither": {"targetResource": {}},
    "target-unknown-key": {"targetResource": {"dspAdvertiserId": 1}},
    "target-not-object": {"targetResource": "c"},
    "target-unknown-connection": {"targetResource": {"connectionId": "00000000-0000-4000-8000-000000000000"}},
    "advertiser-string": {"targetResource": {"advertiserId": "5730214018309201"}},
    "advertiser-float": {"targetResource": {"advertiserId": 5730214018309201.0}},
    "advertiser-bool": {"targetResource": {"advertiserId": True}},
    "advertiser-zero": {"targetResource": {"advertiserId": 0}},
    "country-lowercase": {"countryCode": "us"},
    "country-uk": {"countryCode": "UK"},
    "country-not-iso": {"countryCode": "XX"},
    "metadata-missing": {"metadata": None},
    "external-id-missing": {"metadata": {"ttl": 10}},
    "external-id-empty": {"metadata": {"externalAudienceId": ""}},
    "external-id-int": {"metadata": {"externalAudienceId": 7}},
    "ttl-negative": {"metadata": _meta(ttl=-1)},
    "ttl-too-big": {"metadata": _meta(ttl=34300801)},
    "ttl-float": {"metadata": _meta(ttl=3600.0)},
    "ttl-string": {"metadata": _meta(ttl="3600")},
    "fees-not-list": {"metadata": _meta(audienceFees={"cpmCents": 1, "currency": "USD"})},
    "fee-currency": {"metadata": _meta(audienceFees=[{"cpmCents": 1, "currency": "usd"}])},
    "fee-currency-unknown": {"metadata": _meta(audienceFees=[{"cpmCents": 1, "currency": "CHF"}])},
    "fee-negative": {"metadata": _meta(audienceFees=[{"cpmCents": -1, "currency": "USD"}])},
    "fee-float": {"metadata": _meta(audienceFees=[{"cpmCents": 1.5, "currency": "USD"}])},
    "fee-missing-cents": {"metadata": _meta(audienceFees=[{"currency": "USD"}])},
    "metadata-unknown-key": {"metadata": _meta(type="DATA_PROVIDER")},
    "body-unknown-key": {"advertiserId": 1},
}


@pytest.mark.parametrize("change", INVALID_BODIES.values(), ids=INVALID_BODIES.keys())
def test_invalid_metadata_is_400(api: Api, change: dict[str, Any]) -> None:
    body = api.audience_body()
    for key, value in change.items():
        if value is None:
            del body[key]
        else:
            body[key] = value
    response = api.call("POST", PATH, body)
    assert response.status_code == 400, response.text
    assert response.json()["message"]


@pytest.mark.parametrize(
    "change",
    [
        {"name": "n" * 10},
        {"name": "n" * 128},
        {"description": ""},
        {"description": "d" * 1000},
        {"metadata": _meta(ttl=0, audienceFees=[])},
        {"metadata": _meta(ttl=34300800, audienceFees=[{"cpmCents": 0, "currency": "JPY"}])},
        {"countryCode": "UNKNOWN"},
        {"countryCode": "CH"},  # any ISO code for the audience; records are limited to Amazon's PII markets
    ],
    ids=[
        "name-10",
        "name-128",
        "description-empty",
        "description-1000",
        "ttl-0",
        "ttl-max",
        "country-unknown",
        "country-any-iso",
    ],
)
def test_boundary_metadata_is_accepted(api: Api, change: dict[str, Any]) -> None:
    assert api.call("POST", PATH, {**api.audience_body(), **change}).status_code == 201


def test_duplicate_external_audience_id_is_400(api: Api) -> None:
    api.create_audience(metadata={"externalAudienceId": "same"})
    response = api.call("POST", PATH, api.audience_body(metadata={"externalAudienceId": "same"}))
    assert response.status_code == 400
    assert "already exists" in response.json()["message"]


def test_put_updates_description_ttl_and_fees_only(api: Api) -> None:
    audience_id = api.create_audience(name="keep me as I am")
    update = {"description": "new", "metadata": {"ttl": 0, "audienceFees": [{"cpmCents": 99, "currency": "EUR"}]}}
    response = api.call("PUT", f"{PATH}/{audience_id}", update)
    assert response.status_code == 200, response.text
    stored = api.emu.audience(audience_id)
    assert stored["description"] == "new"
    assert stored["name"] == "keep me as I am"
    assert stored["metadata"]["ttl"] == 0
    assert stored["metadata"]["audienceFees"] == [{"cpmCents": 99, "currency": "EUR"}]


@pytest.mark.parametrize(
    "update",
    [
        {"name": "renamed"},
        {"metadata": {"externalAudienceId": "other"}},
        {"targetResource": {"advertiserId": 1}},
        {"metadata": {"ttl": 34300801}},
        {},
    ],
    ids=["name", "external-id", "target", "ttl-range", "empty"],
)
def test_put_rejects_other_fields(api: Api, update: dict[str, Any]) -> None:
    audience_id = api.create_audience()
    assert api.call("PUT", f"{PATH}/{audience_id}", update).status_code == 400


def test_put_unknown_audience_is_404(api: Api) -> None:
    assert api.call("PUT", f"{PATH}/123456789012345678", {"description": "x"}).status_code == 404
