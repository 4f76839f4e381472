"""``adsbridge auth``: consent URL per region, and the code exchange against the emulator into moto Secrets Manager."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from moto import mock_aws

from adsbridge.ads import auth_cli
from adsbridge.ads.auth import TokenProvider
from adsbridge.ads.secrets import credentials_from_secret
from adsbridge_sandbox.emulator import Emulator

REDIRECT = "https://example.org/adsbridge/callback"
SECRET = "adsbridge/acct-1"


def auth(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="adsbridge")
    auth_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["auth", *argv])
    return int(args.func(args))


@pytest.fixture
def secrets(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "eu-central-1", "ADSBRIDGE_TOKEN_URL": emulator.token_url}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    for name in ("ADSBRIDGE_CLIENT_ID", "ADSBRIDGE_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield boto3.client("secretsmanager")


def exchange(emulator: Emulator, code: str) -> int:
    c = emulator.credentials
    return auth("exchange", "--region", "EU", "--code", code, "--redirect-uri", REDIRECT, "--secret-name", SECRET,
                "--client-id", c.client_id, "--client-secret", c.client_secret)  # fmt: skip


@pytest.mark.parametrize(
    ("region", "prefix"),
    [("NA", "https://www.amazon.com/ap/oa?"), ("EU", "https://eu.account.amazon.com/ap/oa?"),
     ("FE", "https://apac.account.amazon.com/ap/oa?")],
)  # fmt: skip
def test_url_prints_the_regional_consent_url_with_a_fresh_state(
    region: str, prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    states = []
    for _ in range(2):
        assert auth("url", "--region", region, "--client-id", "amzn1.app", "--redirect-uri", REDIRECT) == 0
        url = capsys.readouterr().out.strip()
        assert url.startswith(prefix)
        query = parse_qs(urlsplit(url).query)
        assert query["client_id"] == ["amzn1.app"] and query["redirect_uri"] == [REDIRECT]
        assert query["response_type"] == ["code"] and query["scope"] == ["advertising::campaign_management"]
        states.append(query["state"][0])
    assert states[0] != states[1] and len(states[0]) >= 32


def test_url_takes_scopes_and_the_client_id_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADSBRIDGE_CLIENT_ID", "amzn1.env")
    assert auth("url", "--region", "NA", "--redirect-uri", REDIRECT,
                "--scope", "advertising::campaign_management", "--scope", "advertising::audiences") == 0  # fmt: skip
    query = parse_qs(urlsplit(capsys.readouterr().out.strip()).query)
    assert query["client_id"] == ["amzn1.env"]
    assert query["scope"] == ["advertising::campaign_management advertising::audiences"]


def test_exchange_creates_then_updates_the_secret_and_prints_nothing_secret(
    emulator: Emulator, secrets: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert exchange(emulator, emulator.issue_authorization_code(REDIRECT)) == 0
    assert exchange(emulator, emulator.issue_authorization_code(REDIRECT)) == 0
    out = capsys.readouterr()
    assert f"secret {SECRET} created" in out.out and f"secret {SECRET} updated" in out.out
    stored = json.loads(secrets.get_secret_value(SecretId=SECRET)["SecretString"])
    assert set(stored) == {"client_id", "client_secret", "refresh_token"}
    for value in (stored["client_secret"], stored["refresh_token"]):
        assert value not in out.out + out.err
    credentials = credentials_from_secret(secrets, SECRET)
    assert TokenProvider(credentials, emulator.token_url).token()  # the stored refresh token works (the emulator
    # refuses token requests that carry an Authorization header, so none was sent)


def test_a_used_code_is_a_clear_error_and_stores_nothing(
    emulator: Emulator, secrets: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code = emulator.issue_authorization_code(REDIRECT)
    assert exchange(emulator, code) == 0
    secrets.delete_secret(SecretId=SECRET, ForceDeleteWithoutRecovery=True)
    capsys.readouterr()
    assert exchange(emulator, code) == 2
    err = capsys.readouterr().err
    assert "invalid_grant" in err and "single-use" in err
    assert secrets.list_secrets()["SecretList"] == []


def test_exchange_without_a_client_secret_says_which_option(secrets: Any, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["exchange", "--region", "NA", "--code", "c", "--redirect-uri", REDIRECT, "--secret-name", SECRET]
    assert auth(*argv, "--client-id", "amzn1.app") == 2
    assert "--client-secret or ADSBRIDGE_CLIENT_SECRET is required" in capsys.readouterr().err
