"""The Secrets Manager credentials adapter and the failure reason a report gets from a Catch result."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adsbridge.ads.errors import AuthError
from adsbridge.ads.secrets import credentials_from_secret
from adsbridge.export.payloads import TaskError
from adsbridge.export.run import task_failure_reason


class FakeSecrets:
    def __init__(self, value: str) -> None:
        self.value = value
        self.asked: list[str] = []

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:
        self.asked.append(SecretId)
        return {"SecretString": self.value}


def test_secret_fields_become_credentials() -> None:
    secrets = FakeSecrets(json.dumps({"client_id": "id", "client_secret": "s3cr3t", "refresh_token": "Atzr|x"}))
    credentials = credentials_from_secret(secrets, "adsbridge/acct")
    assert (credentials.client_id, credentials.client_secret, credentials.refresh_token) == ("id", "s3cr3t", "Atzr|x")
    assert secrets.asked == ["adsbridge/acct"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not json", "not a JSON object"),
        (json.dumps({"client_id": "id", "client_secret": "s3cr3t"}), "missing refresh_token"),
    ],
)
def test_bad_secrets_name_the_problem_never_the_values(value: str, message: str) -> None:
    with pytest.raises(AuthError, match=message) as caught:
        credentials_from_secret(FakeSecrets(value), "adsbridge/acct")
    assert "s3cr3t" not in str(caught.value)


def test_reason_keeps_type_and_message_and_drops_the_stack() -> None:
    cause = json.dumps({"errorType": "ApiError", "errorMessage": "POST /x -> HTTP 503", "stackTrace": ["  File a.py"]})
    assert task_failure_reason(TaskError(Error="ApiError", Cause=cause)) == "ApiError: POST /x -> HTTP 503"
    assert task_failure_reason(TaskError(Error="States.Timeout", Cause="")) == "States.Timeout"
    assert task_failure_reason(TaskError(Error="States.Runtime", Cause="x" * 2000)).__len__() == 500
