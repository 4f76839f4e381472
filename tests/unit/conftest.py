"""Unit tests are pure logic: no sockets."""

import pytest
from pytest_socket import disable_socket, enable_socket


@pytest.fixture(autouse=True)
def _no_network() -> object:
    disable_socket()
    yield
    enable_socket()


@pytest.fixture(autouse=True)
def _state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """``adsbridge export`` records CREATE jobs' audiences in the state directory: one per test, never the user's."""
    monkeypatch.setenv("ADSBRIDGE_STATE_DIR", str(tmp_path_factory.mktemp("state")))
