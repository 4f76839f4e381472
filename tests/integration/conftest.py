"""Integration fixtures: a fresh Ads API emulator per test and a client pointed at it."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from adsbridge.ads import AdsSession, AudiencesClient, LwaCredentials, RetryPolicy, TokenProvider
from adsbridge_sandbox.emulator import Emulator


class Sleeps:
    """Records requested sleeps instead of sleeping, so retry tests run instantly."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(pending_seconds=0.2) as emu:
        emu.accept_terms()
        yield emu


@pytest.fixture
def credentials(emulator: Emulator) -> LwaCredentials:
    return emulator.credentials.lwa()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(emulator: Emulator, credentials: LwaCredentials, sleeps: Sleeps) -> AudiencesClient:
    tokens = TokenProvider(credentials, emulator.token_url)
    session = AdsSession(emulator.url, tokens, policy=RetryPolicy(max_attempts=5), sleep=sleeps, rng=random.Random(7))
    return AudiencesClient(session)


@pytest.fixture
def emulator_env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """Point adsbridge at the emulator through its documented environment variables."""
    c = emulator.credentials
    monkeypatch.setenv("ADSBRIDGE_API_URL", emulator.url)
    monkeypatch.setenv("ADSBRIDGE_TOKEN_URL", emulator.token_url)
    monkeypatch.setenv("ADSBRIDGE_CLIENT_ID", c.client_id)
    monkeypatch.setenv("ADSBRIDGE_CLIENT_SECRET", c.client_secret)
    monkeypatch.setenv("ADSBRIDGE_REFRESH_TOKEN", c.refresh_token)
    return emulator


@pytest.fixture(autouse=True)
def _state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """``adsbridge export`` records CREATE jobs' audiences in the state directory: one per test, never the user's."""
    monkeypatch.setenv("ADSBRIDGE_STATE_DIR", str(tmp_path_factory.mktemp("state")))
