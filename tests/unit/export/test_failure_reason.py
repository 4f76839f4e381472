"""One failure, one reason: ``adsbridge export`` (the exception in its process) and the state machine (the Catch
result's error name and Lambda cause) tell the same text, and a bug's message, which could quote a row, never."""

from __future__ import annotations

import csv
import json

import pytest
from botocore.exceptions import ClientError, NoCredentialsError
from pydantic import BaseModel, ValidationError

from adsbridge.ads.errors import ApiError, AuthError
from adsbridge.export.checkpoint import damaged
from adsbridge.export.payloads import TaskError
from adsbridge.export.prepare import PrepareError
from adsbridge.export.registry import RegistryError
from adsbridge.export.run import REASON_MAX, exception_reason, failure_reason, task_failure_reason
from adsbridge.export.run_claim import RunInProgress
from adsbridge.export.source import InputError, InputReplaced
from adsbridge.settings import SettingsError

PII = "jane.doe@example.com"


def caught(exc: BaseException, error: str | None = None) -> TaskError:
    """The Catch result Step Functions makes of ``exc`` raised in a Lambda (``error``: its name, if wrapped)."""
    cause = {"errorType": error or type(exc).__name__, "errorMessage": str(exc), "stackTrace": ['  File "x.py"']}
    return TaskError(Error=error or type(exc).__name__, Cause=json.dumps(cause))


def validation_error() -> ValidationError:
    class Row(BaseModel):
        age: int

    try:
        Row.model_validate({"age": PII})
    except ValidationError as exc:
        return exc
    raise AssertionError("validated")


KNOWN = [
    ApiError("POST", "/amc/audiences/records", 503, "Service Unavailable", "r-1"),
    AuthError("invalid_grant: the refresh token was revoked", retryable=False),
    InputError("input: the header names column email twice (columns 2 and 4)"),
    InputReplaced("s3://in/incoming/crm/c.csv", '"9b2cf535f27731c974343645a3985328"'),
    PrepareError("audience_id: audience 123 does not exist for this login"),
    SettingsError(["country_code: required"]),
    RegistryError("audience registry /x is damaged: delete it to reset"),
    RunInProgress("run r1 is already being exported by execution e1"),
    damaged("/home/u/.adsbridge/checkpoints/adsbridge-export/r1", "prepared.json", "not JSON"),
    FileNotFoundError(2, "No such file or directory", "nope.csv"),
    ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetObject"),
    NoCredentialsError(),
    csv.Error("field larger than field limit (131072)"),
]
UNEXPECTED = [KeyError(PII), ValueError(f"invalid literal for int() with base 10: '{PII}'"), validation_error()]


@pytest.mark.parametrize("exc", KNOWN, ids=lambda exc: type(exc).__name__)
def test_a_known_error_reads_the_same_in_both_paths_with_its_type_and_message(exc: Exception) -> None:
    reason = exception_reason(exc)
    assert reason == task_failure_reason(caught(exc)) == f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize("exc", UNEXPECTED, ids=lambda exc: type(exc).__name__)
def test_an_unexpected_error_is_named_never_quoted_in_either_path(exc: Exception) -> None:
    reason = f"unexpected {type(exc).__name__} (a bug in adsbridge: please report it)"
    assert exception_reason(exc) == task_failure_reason(caught(exc)) == reason
    assert PII not in reason


def test_a_retryable_ads_error_outlasting_the_lambda_retries_reads_as_the_cli_tells_it() -> None:
    error = ApiError("POST", "/amc/audiences/records", 503, "Service Unavailable")
    wrapped = TaskError(Error="AdsRetryable", Cause=json.dumps({"errorMessage": f"ApiError: {error}"}))
    assert task_failure_reason(wrapped) == exception_reason(error)
    paced = "pacing wait of 900s would run into the Lambda timeout"
    assert failure_reason("AdsRetryable", paced) == f"AdsRetryable: {paced}"
    assert failure_reason("KeyError", f"ApiError: {PII}").startswith("unexpected KeyError")


@pytest.mark.parametrize(
    ("error", "cause", "reason"),
    [
        ("States.Timeout", "", "States.Timeout"),
        ("Sandbox.Timedout", json.dumps({"errorMessage": "Task timed out after 900.00 seconds"}),
         "Sandbox.Timedout: Task timed out after 900.00 seconds"),
        ("Athena.InvalidRequestException", "line 1:8: Column 'x' cannot be resolved",
         "Athena.InvalidRequestException: line 1:8: Column 'x' cannot be resolved"),
        ("AthenaQueryTimedOut", "the query was still QUEUED after 3 status checks",
         "AthenaQueryTimedOut: the query was still QUEUED after 3 status checks"),
        ("TIMED_OUT", "States.Timeout", "TIMED_OUT: States.Timeout"),
    ],
)  # fmt: skip
def test_step_functions_own_errors_stay_readable(error: str, cause: str, reason: str) -> None:
    assert task_failure_reason(TaskError(Error=error, Cause=cause)) == reason


def test_a_long_message_is_cut_the_same_in_both_paths() -> None:
    exc = InputError("input: " + "x" * 2000)
    assert exception_reason(exc) == task_failure_reason(caught(exc))
    assert len(exception_reason(exc)) == REASON_MAX
