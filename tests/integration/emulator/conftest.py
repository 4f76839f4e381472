"""Fixtures for emulator tests: a fresh emulator per test (starts in milliseconds) and a raw-requests caller.

Helpers are exposed as methods of the ``api`` fixture (not importable names) so test modules never import
``conftest`` by name, which would clash with other test directories' conftest modules.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from adsbridge_sandbox.emulator import Emulator

AUD = "application/vnd.amcaudiences.v1+json"
CONN = "application/vnd.amcaudiencesconnections.v1+json"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def hash_starting(prefix: str) -> str:
    """A real SHA-256 hex digest whose first character is ``prefix`` (drives the pseudo-match rule)."""
    n = 0
    while not (digest := sha(f"seed-{n}")).startswith(prefix):
        n += 1
    return digest


class Api:
    """Raw HTTP caller with correct headers by default; every default can be overridden per call."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.http = requests.Session()
        self.token = self.fetch_token()

    def fetch_token(self) -> str:
        creds = self.emu.credentials
        response = requests.post(
            self.emu.token_url,
            data={
                "grant_type": "refresh_token",
                "client_id": creds.client_id,
                "client_secret": creds.client_secret,
                "refresh_token": creds.refresh_token,
            },
            timeout=5,
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def headers(self, content_type: str | None = None, **extra: str) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Amazon-Advertising-API-ClientId": self.emu.credentials.client_id,
        }
        if content_type:
            headers["Content-Type"] = content_type
        headers.update(extra)
        return headers

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if content_type is None and data is not None:
            content_type = CONN if "/connections" in path else AUD
        all_headers = self.headers(content_type)
        if headers is not None:
            all_headers.update(headers)
        all_headers = {k: v for k, v in all_headers.items() if v != ""}
        return self.http.request(method, self.emu.url + path, data=data, headers=all_headers, params=params, timeout=5)

    @staticmethod
    def sha(text: str) -> str:
        return sha(text)

    @staticmethod
    def hash_starting(prefix: str) -> str:
        return hash_starting(prefix)

    @staticmethod
    def audience_body(**overrides: Any) -> dict[str, Any]:
        return audience_body(**overrides)

    @staticmethod
    def record(external_id: str = "user_1", action: str = "CREATE", **pii: str) -> dict[str, Any]:
        return record(external_id, action, **pii)

    def create_audience(self, **overrides: Any) -> int:
        body = audience_body(**overrides)
        response = self.call("POST", "/amc/audiences/metadata", body)
        assert response.status_code == 201, response.text
        audience_id: int = json.loads(response.text)["audienceId"]
        return audience_id

    def post_records(self, audience_id: int, records: list[dict[str, Any]], **extra: Any) -> requests.Response:
        return self.call("POST", "/amc/audiences/records", {"audienceId": audience_id, "records": records, **extra})

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.call("GET", f"/amc/audiences/records/{job_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


_counter = iter(range(1, 10**9))


def audience_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "adsbridge test audience",
        "description": "created by tests",
        "targetResource": {"advertiserId": 5730214018309201},
        "countryCode": "US",
        "metadata": {"externalAudienceId": f"ext-{next(_counter)}", "ttl": 604800},
    }
    body.update(overrides)
    return body


def record(external_id: str = "user_1", action: str = "CREATE", **pii: str) -> dict[str, Any]:
    return {
        "externalUserId": external_id,
        "action": action,
        "countryCode": "US",
        "hashedPII": [pii or {"email": sha(f"{external_id}@example.com")}],
    }


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(pending_seconds=0.05) as emulator:
        yield emulator


@pytest.fixture
def api(emu: Emulator) -> Api:
    """Authenticated caller against an emulator whose AMC terms are accepted."""
    emu.accept_terms()
    return Api(emu)


@pytest.fixture
def api_for() -> Callable[[Emulator], Api]:
    """Build an :class:`Api` for an emulator a test configured itself (terms not touched)."""
    return Api


@pytest.fixture
def api_no_terms(emu: Emulator) -> Api:
    return Api(emu)
