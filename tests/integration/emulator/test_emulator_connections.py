"""AMC terms gate and the connections resource."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Api


def _create(api: Api, **body: Any) -> str:
    response = api.call("POST", "/amc/audiences/connections", body)
    assert response.status_code == 201, response.text  # the model's AmcpLinkAddConnectionV2 answers 201
    connection_id: str = response.json()["connectionId"]
    return connection_id


def _list(api: Api, **params: str) -> list[dict[str, Any]]:
    response = api.call("GET", "/amc/audiences/connections", params=params)
    assert response.status_code == 200, response.text
    connections: list[dict[str, Any]] = response.json()["connections"]
    return connections


# ------------------------------------------------------------------------------------------- terms


def test_terms_start_unaccepted_and_patch_accepts(api_no_terms: Api) -> None:
    api = api_no_terms
    terms = api.call("GET", "/amc/audiences/connections/terms").json()
    assert terms["hasAccepted"] is False
    assert terms["agreementContent"] and terms["agreementToken"]
    patch = api.call(
        "PATCH", "/amc/audiences/connections/terms", {"agreementToken": terms["agreementToken"], "hasAccepted": True}
    )
    assert (patch.status_code, patch.content) == (204, b"")  # the model: 204, no body
    assert api.call("GET", "/amc/audiences/connections/terms").json()["hasAccepted"] is True
    assert api.call("POST", "/amc/audiences/connections", {"amcInstanceId": "amcabc"}).status_code == 201


def test_terms_patch_with_wrong_token_is_400(api_no_terms: Api) -> None:
    response = api_no_terms.call(
        "PATCH", "/amc/audiences/connections/terms", {"agreementToken": "stale", "hasAccepted": True}
    )
    assert response.status_code == 400
    assert api_no_terms.call("GET", "/amc/audiences/connections/terms").json()["hasAccepted"] is False


@pytest.mark.parametrize("body", [{"hasAccepted": True}, {"agreementToken": "x", "hasAccepted": "yes"}])
def test_terms_patch_body_is_validated(api_no_terms: Api, body: dict[str, Any]) -> None:
    assert api_no_terms.call("PATCH", "/amc/audiences/connections/terms", body).status_code == 400


def test_unaccepted_terms_block_connections_metadata_and_records(api_no_terms: Api) -> None:
    api = api_no_terms
    blocked = [
        api.call("POST", "/amc/audiences/connections", {"amcInstanceId": "amcabc"}),
        api.call("POST", "/amc/audiences/metadata", api.audience_body()),
    ]
    api.emu.accept_terms()
    audience_id = api.create_audience()
    api.call(
        "PATCH",
        "/amc/audiences/connections/terms",
        {"agreementToken": api.emu.state.terms_token, "hasAccepted": False},
    )
    blocked.append(api.post_records(audience_id, [api.record()]))
    for response in blocked:
        assert response.status_code == 403
        assert response.json()["message"].startswith("AMC terms have not been accepted")
    # reads stay allowed
    assert api.call("GET", f"/amc/audiences/metadata/{audience_id}").status_code == 200


# ------------------------------------------------------------------------------------------- connections


def test_create_and_list_connection_with_stored_fields(api: Api) -> None:
    connection_id = _create(
        api,
        amcAccountId="ENTITY1000000000000",
        amcAccountMarketplaceId="ATVPDKIKX0DER",
        amcInstanceId="amcxxxxxxxx",
        dspAdvertiserId="0000000000000",
        isDefault=True,
    )
    (stored,) = _list(api)
    assert stored["connectionId"] == connection_id
    assert stored["amcInstanceId"] == "amcxxxxxxxx"
    assert stored["dspAdvertiserId"] == "0000000000000"
    assert stored["amcAccountMarketplaceId"] == "ATVPDKIKX0DER"
    assert stored["isDefault"] is True
    assert stored["clientId"] == api.emu.credentials.client_id
    assert stored["creationDateTime"].endswith("Z")


def test_client_chosen_connection_id_is_kept_and_must_be_unique(api: Api) -> None:
    assert _create(api, amcInstanceId="amc1", connectionId="my-conn") == "my-conn"
    response = api.call("POST", "/amc/audiences/connections", {"amcInstanceId": "amc2", "connectionId": "my-conn"})
    assert response.status_code == 400


def test_list_filters_by_id_and_default(api: Api) -> None:
    first = _create(api, amcInstanceId="amc1", isDefault=True)
    second = _create(api, amcInstanceId="amc2", isDefault=True)  # un-defaults the first
    assert [c["connectionId"] for c in _list(api, connectionId=first)] == [first]
    assert [c["connectionId"] for c in _list(api, isDefault="true")] == [second]
    assert [c["connectionId"] for c in _list(api, isDefault="false")] == [first]
    assert _list(api, connectionId="missing") == []
    assert api.call("GET", "/amc/audiences/connections", params={"isDefault": "yes"}).status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"amcAccountId": "ENTITY1"},
        {"amcInstanceId": 123},
        {"dspAdvertiserId": 5730214018309201},
        {"amcInstanceId": ""},
        {"amcInstanceId": "amc1", "isDefault": "true"},
        {"amcInstanceId": "amc1", "instanceId": "typo"},
    ],
    ids=["empty", "no-instance-or-advertiser", "int-instance", "int-advertiser", "blank", "string-bool", "unknown"],
)
def test_connection_body_is_validated(api: Api, body: dict[str, Any]) -> None:
    response = api.call("POST", "/amc/audiences/connections", body)
    assert response.status_code == 400
    assert _list(api) == []


def test_delete_one_connection(api: Api) -> None:
    keep = _create(api, amcInstanceId="amc1")
    drop = _create(api, amcInstanceId="amc2")
    response = api.call("DELETE", "/amc/audiences/connections", params={"connectionId": drop})
    assert (response.status_code, response.content) == (204, b"")
    assert [c["connectionId"] for c in _list(api)] == [keep]
    again = api.call("DELETE", "/amc/audiences/connections", params={"connectionId": drop})
    assert again.status_code == 404


def test_delete_without_connection_id_is_refused_and_deletes_nothing(api: Api) -> None:
    _create(api, amcInstanceId="amc1")
    _create(api, amcInstanceId="amc2")
    response = api.call("DELETE", "/amc/audiences/connections")
    assert response.status_code == 400
    assert "refusing to delete all" in response.json()["message"]
    assert len(_list(api)) == 2
