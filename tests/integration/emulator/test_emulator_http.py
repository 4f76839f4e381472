"""Media types (415/406), JSON body parsing, routing and response headers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from adsbridge_sandbox.emulator.validation import AUDIENCES_TYPE, CONNECTIONS_TYPE

if TYPE_CHECKING:
    from conftest import Api


@pytest.mark.parametrize(
    ("path", "wrong"),
    [
        ("/amc/audiences/metadata", "application/json"),
        ("/amc/audiences/metadata", CONNECTIONS_TYPE),
        ("/amc/audiences/records", "application/json"),
        ("/amc/audiences/records", CONNECTIONS_TYPE),
        ("/amc/audiences/connections", AUDIENCES_TYPE),
        ("/amc/audiences/connections", "application/json"),
        ("/amc/audiences/connections/terms", "text/plain"),
    ],
)
def test_wrong_content_type_is_415(api: Api, path: str, wrong: str) -> None:
    method = "PATCH" if path.endswith("terms") else "POST"
    response = api.call(method, path, {"any": "thing"}, content_type=wrong)
    assert response.status_code == 415
    assert "message" in response.json()


def test_missing_content_type_is_415(api: Api) -> None:
    response = api.call("POST", "/amc/audiences/metadata", api.audience_body(), headers={"Content-Type": ""})
    assert response.status_code == 415


def test_put_metadata_needs_vendor_type(api: Api) -> None:
    audience_id = api.create_audience()
    response = api.call(
        "PUT", f"/amc/audiences/metadata/{audience_id}", {"description": "x"}, content_type="application/json"
    )
    assert response.status_code == 415


def test_charset_parameter_is_tolerated(api: Api) -> None:
    response = api.call(
        "POST", "/amc/audiences/metadata", api.audience_body(), content_type=AUDIENCES_TYPE + "; charset=UTF-8"
    )
    assert response.status_code == 201


@pytest.mark.parametrize("accept", ["*/*", "application/json", AUDIENCES_TYPE, f"text/html, {AUDIENCES_TYPE}"])
def test_acceptable_accept_headers(api: Api, accept: str) -> None:
    response = api.call("POST", "/amc/audiences/metadata", api.audience_body(), headers={"Accept": accept})
    assert response.status_code == 201


@pytest.mark.parametrize("accept", ["text/html", CONNECTIONS_TYPE, "application/xml"])
def test_unacceptable_accept_is_406(api: Api, accept: str) -> None:
    response = api.call("POST", "/amc/audiences/metadata", api.audience_body(), headers={"Accept": accept})
    assert response.status_code == 406


def test_accept_on_connections_must_match_its_vendor_type(api: Api) -> None:
    assert api.call("GET", "/amc/audiences/connections", headers={"Accept": AUDIENCES_TYPE}).status_code == 406
    assert api.call("GET", "/amc/audiences/connections", headers={"Accept": CONNECTIONS_TYPE}).status_code == 200


@pytest.mark.parametrize(
    "raw",
    [b"", b"{not json", b"[1, 2]", b'"text"', b'{"a": NaN}', b'{"name": "a", "name": "b"}', b"\xff\xfe"],
    ids=["empty", "malformed", "array", "string", "nan", "duplicate-key", "not-utf8"],
)
def test_body_must_be_one_json_object(api: Api, raw: bytes) -> None:
    response = api.call("POST", "/amc/audiences/metadata", raw=raw, content_type=AUDIENCES_TYPE)
    assert response.status_code == 400
    assert response.json()["message"]


def test_unknown_paths_are_404(api: Api) -> None:
    assert api.call("GET", "/amc/audiences/nothing").status_code == 404
    assert api.call("GET", "/amc/audiences/metadata/1/extra").status_code == 404
    assert api.call("GET", "/v2/profiles").status_code == 404


def test_wrong_method_is_405(api: Api) -> None:
    response = api.call("GET", "/amc/audiences/records")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_unknown_query_parameter_is_400(api: Api) -> None:
    assert api.call("GET", "/amc/audiences/connections", params={"connectionID": "x"}).status_code == 400


def test_success_carries_vendor_type_and_request_id(api: Api) -> None:
    response = api.call("GET", "/amc/audiences/connections/terms")
    assert response.headers["Content-Type"] == CONNECTIONS_TYPE
    assert len(response.headers["x-amzn-RequestId"]) == 36
    error = api.call("GET", "/amc/audiences/metadata/123")
    assert error.status_code == 404
    assert error.headers["Content-Type"] == "application/json"
    assert error.headers["x-amzn-RequestId"]


def test_keep_alive_connection_survives_a_rejected_body(api: Api) -> None:
    # A rejected request must still have its body consumed, or the next request on the socket breaks.
    bad = api.call("POST", "/amc/audiences/metadata", api.audience_body(), content_type="application/json")
    assert bad.status_code == 415
    assert api.call("POST", "/amc/audiences/metadata", api.audience_body()).status_code == 201


def test_request_log_never_contains_bodies(api: Api) -> None:
    secret = api.sha("alice@example.com")
    audience_id = api.create_audience()
    api.post_records(audience_id, [api.record("alice", email=secret)])
    assert secret not in repr(api.emu.request_log())
