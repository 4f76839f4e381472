"""Fault injection: queued 5xx, throttling with Retry-After, seeded random faults; applied before auth."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
import requests

from adsbridge_sandbox.emulator import Emulator

if TYPE_CHECKING:
    from conftest import Api

TERMS = "/amc/audiences/connections/terms"


def test_fail_next_returns_5xx_then_recovers(api: Api) -> None:
    api.emu.faults.fail_next(2, status=503)
    first, second, third = (api.call("GET", TERMS) for _ in range(3))
    assert [first.status_code, second.status_code, third.status_code] == [503, 503, 200]
    assert first.json()["message"]
    assert first.headers["x-amzn-RequestId"]
    assert api.emu.faults.pending() == 0


def test_fail_next_respects_path_prefix(api: Api) -> None:
    api.emu.faults.fail_next(1, status=500, path_prefix="/amc/audiences/records")
    assert api.call("GET", TERMS).status_code == 200
    assert api.fetch_token()  # the token endpoint is outside the default /amc prefix too
    assert api.call("GET", "/amc/audiences/records/whatever").status_code == 500


def test_faults_on_token_endpoint_with_auth_prefix(api: Api) -> None:
    api.emu.faults.fail_next(1, status=503, path_prefix="/auth")
    creds = api.emu.credentials
    form = {
        "grant_type": "refresh_token",
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "refresh_token": creds.refresh_token,
    }
    assert requests.post(api.emu.token_url, data=form, timeout=5).status_code == 503
    assert requests.post(api.emu.token_url, data=form, timeout=5).status_code == 200


def test_faults_apply_before_auth_and_validation(emu: Emulator) -> None:
    emu.faults.fail_next(1)
    response = requests.post(emu.url + "/amc/audiences/records", data=b"not json", timeout=5)
    assert response.status_code == 503  # not 401 / 415 / 400
    assert requests.post(emu.url + "/amc/audiences/records", data=b"x", timeout=5).status_code == 401


@pytest.mark.parametrize(("retry_after", "header"), [(0.05, "0.05"), (1, "1"), (2.0, "2")])
def test_throttle_next_sends_retry_after(api: Api, retry_after: float, header: str) -> None:
    api.emu.faults.throttle_next(1, retry_after=retry_after)
    response = api.call("GET", TERMS)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == header
    assert response.json()["message"]
    assert api.call("GET", TERMS).status_code == 200


def test_throttle_without_retry_after_header(api: Api) -> None:
    api.emu.faults.throttle_next(1, retry_after=None)
    response = api.call("GET", TERMS)
    assert response.status_code == 429
    assert "Retry-After" not in response.headers


def test_queued_faults_are_served_in_registration_order(api: Api) -> None:
    api.emu.faults.throttle_next(1, retry_after=0.01)
    api.emu.faults.fail_next(1, status=502)
    assert [api.call("GET", TERMS).status_code for _ in range(3)] == [429, 502, 200]


def test_faults_are_recorded_in_request_log(api: Api) -> None:
    api.emu.clear_request_log()
    api.emu.faults.throttle_next(2, retry_after=0.01)
    for _ in range(3):
        api.call("GET", TERMS)
    log = api.emu.request_log()
    assert [(r.status, r.fault) for r in log] == [(429, "throttle"), (429, "throttle"), (200, None)]
    assert all(r.path == TERMS and r.method == "GET" for r in log)
    assert log[0].at <= log[1].at <= log[2].at


def test_clear_removes_all_faults(api: Api) -> None:
    api.emu.faults.fail_next(5)
    api.emu.faults.random(1.0)
    api.emu.faults.clear()
    assert api.call("GET", TERMS).status_code == 200


def _random_statuses(api_for: Callable[[Emulator], Api], seed: int) -> list[int]:
    with Emulator(seed=seed) as emu:
        api = api_for(emu)
        emu.faults.random(0.5, statuses=(429, 500), retry_after=0)
        return [api.call("GET", TERMS).status_code for _ in range(30)]


def test_random_faults_are_seeded(api_for: Callable[[Emulator], Api]) -> None:
    first = _random_statuses(api_for, seed=7)
    assert first == _random_statuses(api_for, seed=7)
    assert {429, 500, 200} <= set(first)
    assert first != _random_statuses(api_for, seed=8)


@pytest.mark.parametrize(
    "bad",
    [
        lambda f: f.fail_next(1, status=429),
        lambda f: f.fail_next(1, status=404),
        lambda f: f.fail_next(-1),
        lambda f: f.throttle_next(1, retry_after=-1),
        lambda f: f.random(1.5),
        lambda f: f.random(0.5, statuses=(404,)),
    ],
)
def test_fault_arguments_are_checked(emu: Emulator, bad: Callable[[object], None]) -> None:
    with pytest.raises(ValueError):
        bad(emu.faults)
