"""Login with Amazon token endpoint and the bearer/client-id checks on every /amc call."""

from __future__ import annotations

from typing import Any

import requests

from adsbridge_sandbox.emulator import Emulator


def _form(emu: Emulator, **overrides: str) -> dict[str, str]:
    creds = emu.credentials
    form = {
        "grant_type": "refresh_token",
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "refresh_token": creds.refresh_token,
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v != ""}


def _token(emu: Emulator, **kwargs: Any) -> requests.Response:
    return requests.post(emu.token_url, timeout=5, **kwargs)


# ------------------------------------------------------------------------------------------- LwA


def test_refresh_grant_returns_bearer_token(emu: Emulator) -> None:
    response = _token(emu, data=_form(emu))
    assert response.status_code == 200
    body = response.json()
    assert body["access_token"].startswith("Atza|")
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["refresh_token"] == emu.credentials.refresh_token
    assert response.headers["x-amzn-RequestId"]


def test_token_ttl_is_configurable() -> None:
    with Emulator(token_ttl_seconds=120) as emu:
        assert _token(emu, data=_form(emu)).json()["expires_in"] == 120


def test_token_call_with_authorization_header_is_rejected(emu: Emulator) -> None:
    response = _token(emu, data=_form(emu), headers={"Authorization": "Bearer something"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert emu.request_log()[-1].headers["authorization"] == "Bearer <redacted>"


def test_token_call_needs_form_encoding(emu: Emulator) -> None:
    response = _token(emu, json=_form(emu))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_wrong_client_secret_is_invalid_client(emu: Emulator) -> None:
    response = _token(emu, data=_form(emu, client_secret="nope"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_wrong_client_id_is_invalid_client(emu: Emulator) -> None:
    response = _token(emu, data=_form(emu, client_id="amzn1.application-oa2-client.other"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_wrong_refresh_token_is_invalid_grant(emu: Emulator) -> None:
    response = _token(emu, data=_form(emu, refresh_token="Atzr|wrong"))
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "The request has an invalid grant parameter : refresh_token",
    }


def test_revoked_refresh_token_is_invalid_grant(emu: Emulator) -> None:
    assert _token(emu, data=_form(emu)).status_code == 200
    emu.revoke_refresh_token()
    response = _token(emu, data=_form(emu))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_missing_parameters_and_unknown_grant(emu: Emulator) -> None:
    missing = _token(emu, data=_form(emu, refresh_token=""))
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    no_grant = _token(emu, data=_form(emu, grant_type=""))
    assert (no_grant.status_code, no_grant.json()["error"]) == (400, "invalid_request")
    unknown = _token(emu, data=_form(emu, grant_type="client_credentials"))
    assert (unknown.status_code, unknown.json()["error"]) == (400, "unsupported_grant_type")


def test_token_endpoint_only_accepts_post(emu: Emulator) -> None:
    assert requests.get(emu.token_url, timeout=5).status_code == 405


def test_authorization_code_grant_is_single_use(emu: Emulator) -> None:
    redirect = "https://example.com/callback"
    code = emu.issue_authorization_code(redirect)
    form = _form(emu, grant_type="authorization_code", refresh_token="", code=code, redirect_uri=redirect)
    first = _token(emu, data=form)
    assert first.status_code == 200, first.text
    new_refresh = first.json()["refresh_token"]
    assert new_refresh.startswith("Atzr|") and new_refresh != emu.credentials.refresh_token
    # the issued refresh token works for the refresh grant
    assert _token(emu, data=_form(emu, refresh_token=new_refresh)).status_code == 200
    again = _token(emu, data=form)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


def test_authorization_code_needs_matching_redirect_uri(emu: Emulator) -> None:
    code = emu.issue_authorization_code("https://example.com/a")
    form = _form(emu, grant_type="authorization_code", refresh_token="", code=code, redirect_uri="https://evil/b")
    response = _token(emu, data=form)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


# ------------------------------------------------------------------------------------------- /amc auth


def _terms(emu: Emulator, headers: dict[str, str]) -> requests.Response:
    return requests.get(emu.url + "/amc/audiences/connections/terms", headers=headers, timeout=5)


def _good_headers(emu: Emulator) -> dict[str, str]:
    token = _token(emu, data=_form(emu)).json()["access_token"]
    return {"Authorization": f"Bearer {token}", "Amazon-Advertising-API-ClientId": emu.credentials.client_id}


def test_valid_token_and_client_id_pass(emu: Emulator) -> None:
    response = _terms(emu, _good_headers(emu))
    assert response.status_code == 200
    assert response.headers["x-amzn-RequestId"]


def test_no_authorization_is_401(emu: Emulator) -> None:
    response = _terms(emu, {"Amazon-Advertising-API-ClientId": emu.credentials.client_id})
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"
    assert response.headers["x-amzn-RequestId"]


def test_unknown_or_malformed_token_is_401(emu: Emulator) -> None:
    client = {"Amazon-Advertising-API-ClientId": emu.credentials.client_id}
    assert _terms(emu, {**client, "Authorization": "Bearer Atza|made-up"}).status_code == 401
    token = _good_headers(emu)["Authorization"].split(" ", 1)[1]
    assert _terms(emu, {**client, "Authorization": token}).status_code == 401  # scheme missing


def test_wrong_or_missing_client_id_is_403(emu: Emulator) -> None:
    headers = _good_headers(emu)
    assert _terms(emu, {**headers, "Amazon-Advertising-API-ClientId": "someone-else"}).status_code == 403
    del headers["Amazon-Advertising-API-ClientId"]
    assert _terms(emu, headers).status_code == 403


def test_client_id_header_name_is_case_insensitive(emu: Emulator) -> None:
    headers = _good_headers(emu)
    value = headers.pop("Amazon-Advertising-API-ClientId")
    assert _terms(emu, {**headers, "amazon-advertising-api-clientID": value}).status_code == 200


def test_expire_tokens_makes_next_call_401_until_refreshed(emu: Emulator) -> None:
    headers = _good_headers(emu)
    assert _terms(emu, headers).status_code == 200
    emu.expire_tokens()
    expired = _terms(emu, headers)
    assert expired.status_code == 401
    assert "expired" in expired.json()["message"]
    assert _terms(emu, _good_headers(emu)).status_code == 200


def test_token_expiry_follows_wall_clock() -> None:
    with Emulator(token_ttl_seconds=0) as emu:
        assert _terms(emu, _good_headers(emu)).status_code == 401


def test_request_log_shows_no_authorization_on_token_call_and_redacts_bearer(emu: Emulator) -> None:
    _terms(emu, _good_headers(emu))
    token_call, api_call = emu.request_log()
    assert token_call.path == "/auth/o2/token" and "authorization" not in token_call.headers
    assert api_call.headers["authorization"] == "Bearer <redacted>"
    assert api_call.status == 200 and api_call.method == "GET"
