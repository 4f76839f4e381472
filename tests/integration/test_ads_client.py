"""The Amazon Ads client against the emulator: auth, token cache and refresh, retries, exact ids."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import urllib3.exceptions

from adsbridge.ads import (
    AdsSession,
    ApiError,
    AudiencesClient,
    AuthError,
    LwaCredentials,
    RetryPolicy,
    TokenProvider,
    audiences_client,
)
from adsbridge.regions import Region
from adsbridge_sandbox.emulator import Emulator
from tests.integration.conftest import Sleeps


def amc_connection(client: AudiencesClient) -> str:
    return client.create_connection({"amcInstanceId": "amc1234567"})


def new_audience(client: AudiencesClient) -> int:
    return client.create_audience(
        {
            "name": "Integration audience",
            "description": "",
            "targetResource": {"connectionId": amc_connection(client)},
            "countryCode": "US",
            "metadata": {"externalAudienceId": "ext-1", "ttl": 3600},
        }
    )


def record(external_id: str, action: str = "CREATE") -> bytes:
    body = {"externalUserId": external_id, "countryCode": "US", "action": action, "hashedPII": [{"email": "a" * 64}]}
    return json.dumps(body).encode()


def calls(emulator: Emulator, path_prefix: str) -> list[Any]:
    return [r for r in emulator.request_log() if r.path.startswith(path_prefix)]


def test_token_is_fetched_once_without_authorization_header(emulator: Emulator, client: AudiencesClient) -> None:
    client.terms()
    client.connections()
    tokens = calls(emulator, "/auth/o2/token")
    assert len(tokens) == 1
    assert "authorization" not in tokens[0].headers
    api = calls(emulator, "/amc")
    assert all(r.headers["amazon-advertising-api-clientid"] == emulator.credentials.client_id for r in api)


def test_expired_token_is_refreshed_once_on_401(emulator: Emulator, client: AudiencesClient) -> None:
    client.terms()
    emulator.expire_tokens()
    client.terms()
    statuses = [(r.path, r.status) for r in emulator.request_log()]
    assert statuses.count(("/amc/audiences/connections/terms", 401)) == 1
    assert len(calls(emulator, "/auth/o2/token")) == 2
    assert client.session.stats.unauthorized == 1


def test_token_is_renewed_before_expiry(emulator: Emulator, credentials: LwaCredentials) -> None:
    now = [0.0]
    tokens = TokenProvider(credentials, emulator.token_url, clock=lambda: now[0])
    first = tokens.token()
    now[0] = 3600 - 301  # outside the refresh margin: reuse
    assert tokens.token() == first
    now[0] = 3600 - 299  # inside the margin: renew before Amazon says 401
    assert tokens.token() != first
    assert tokens.refresh_count == 2


def test_invalid_grant_is_a_clear_non_retryable_error(emulator: Emulator, credentials: LwaCredentials) -> None:
    emulator.revoke_refresh_token()
    with pytest.raises(AuthError, match="invalid_grant") as info:
        TokenProvider(credentials, emulator.token_url).token()
    assert info.value.retryable is False
    assert credentials.refresh_token not in str(info.value)


def test_wrong_client_secret_is_refused(emulator: Emulator, credentials: LwaCredentials) -> None:
    bad = LwaCredentials(credentials.client_id, "not-the-secret", credentials.refresh_token)
    with pytest.raises(AuthError, match="client") as info:
        TokenProvider(bad, emulator.token_url).token()
    assert not info.value.retryable


def test_5xx_storm_is_retried_with_capped_jittered_backoff(
    emulator: Emulator, client: AudiencesClient, sleeps: Sleeps
) -> None:
    emulator.faults.fail_next(3, status=503)
    assert "agreementToken" in client.terms()
    assert len(sleeps.calls) == 3
    policy = client.session.policy
    for attempt, delay in enumerate(sleeps.calls, start=1):
        assert 0 <= delay <= min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))


def test_429_waits_for_retry_after(emulator: Emulator, client: AudiencesClient, sleeps: Sleeps) -> None:
    emulator.faults.throttle_next(2, retry_after=7)
    client.connections()
    assert sleeps.calls == [7.0, 7.0]
    assert client.session.stats.throttled == 2


def test_retries_give_up_after_max_attempts(emulator: Emulator, client: AudiencesClient, sleeps: Sleeps) -> None:
    emulator.faults.fail_next(10, status=500)
    with pytest.raises(ApiError) as info:
        client.connections()
    assert info.value.status == 500 and info.value.retryable
    assert len(calls(emulator, "/amc")) == client.session.policy.max_attempts


def test_other_4xx_fail_at_once(emulator: Emulator, client: AudiencesClient, sleeps: Sleeps) -> None:
    with pytest.raises(ApiError) as info:
        client.get_audience(123456789012345678)
    assert info.value.status == 404 and not info.value.retryable
    assert sleeps.calls == []


def test_18_digit_audience_id_survives_round_trip(emulator: Emulator, client: AudiencesClient) -> None:
    audience_id = new_audience(client)
    assert audience_id > 2**53
    assert client.get_audience(audience_id)["audienceId"] == audience_id
    job = client.upload_records(audience_id, [record("u1")], {"connectionId": amc_connection(client)})
    assert isinstance(job, str) and job


def test_create_then_delete_leaves_the_ledger_empty(emulator: Emulator, client: AudiencesClient) -> None:
    audience_id = new_audience(client)
    created = client.upload_records(audience_id, [record(f"u{i}") for i in range(5)], None)
    _wait_terminal(client, created)
    assert emulator.audience_members(audience_id) == {f"u{i}" for i in range(5)}
    deleted = client.upload_records(audience_id, [record(f"u{i}", "DELETE") for i in range(5)], None)
    status = _wait_terminal(client, deleted)
    assert status.state == "SUCCEEDED" and status.received == 5
    assert emulator.audience_members(audience_id) == frozenset()


def test_connection_errors_are_retried(emulator: Emulator, credentials: LwaCredentials, sleeps: Sleeps) -> None:
    with Emulator() as gone:
        dead_url = gone.url  # nothing listens here once the block ends
    session = AdsSession(dead_url, TokenProvider(credentials, emulator.token_url), sleep=sleeps)
    with pytest.raises(ApiError, match="no response after 8 attempts"):
        AudiencesClient(session).connections()
    assert len(sleeps.calls) == 7


def test_environment_overrides_hosts(emulator_env: Emulator) -> None:
    client = audiences_client(Region.EU)
    assert client.session.base_url == emulator_env.url
    assert client.session.tokens.url == emulator_env.token_url
    client.terms()


def test_missing_credentials_name_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LwaCredentials.ENV:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(AuthError, match="ADSBRIDGE_CLIENT_ID, ADSBRIDGE_CLIENT_SECRET, ADSBRIDGE_REFRESH_TOKEN"):
        audiences_client(Region.NA)


def _wait_terminal(client: AudiencesClient, job_id: str) -> Any:
    import time

    for _ in range(100):
        status = client.job_status(job_id)
        if status.terminal:
            return status
        time.sleep(0.05)
    raise AssertionError("job never finished")


def test_no_response_is_a_retryable_error(emulator: Emulator, credentials: LwaCredentials, sleeps: Sleeps) -> None:
    with Emulator() as gone:
        dead_url = gone.url
    session = AdsSession(dead_url, TokenProvider(credentials, emulator.token_url), sleep=sleeps)
    with pytest.raises(ApiError) as info:
        AudiencesClient(session).connections()
    assert info.value.status == 0 and info.value.retryable


class Clock:
    """A caller's deadline that the recorded sleeps run down."""

    def __init__(self, left: float, sleeps: Sleeps) -> None:
        self.left = left
        self.sleeps = sleeps

    def __call__(self) -> float:
        return self.left - sum(self.sleeps.calls)


def test_a_retry_wait_past_the_deadline_reserve_raises_the_retryable_error_instead(
    emulator: Emulator, credentials: LwaCredentials, sleeps: Sleeps
) -> None:
    emulator.faults.throttle_next(5, retry_after=20)
    policy = RetryPolicy(deadline=Clock(100.0, sleeps), reserve=45.0)
    session = AdsSession(emulator.url, TokenProvider(credentials, emulator.token_url), policy=policy, sleep=sleeps)
    with pytest.raises(ApiError) as info:
        AudiencesClient(session).connections()
    assert info.value.status == 429 and info.value.retryable
    assert sleeps.calls == [20.0, 20.0]  # a third wait would leave 40 s, inside the 45 s reserve
    assert len(calls(emulator, "/amc")) == 3


def test_no_attempt_starts_inside_the_deadline_reserve(emulator: Emulator, credentials: LwaCredentials) -> None:
    policy = RetryPolicy(deadline=lambda: 44.0, reserve=45.0)
    session = AdsSession(emulator.url, TokenProvider(credentials, emulator.token_url), policy=policy)
    with pytest.raises(ApiError, match="deadline") as info:
        AudiencesClient(session).connections()
    assert info.value.retryable and calls(emulator, "/amc") == []


class LosesResponse(requests.Session):
    """A transport whose first ``method`` request to ``path`` reaches the API but whose answer is lost."""

    def __init__(self, method: str, path: str, exc: Exception) -> None:
        super().__init__()
        self.target = (method, path)
        self.exc: Exception | None = exc

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        response = super().request(method, url, *args, **kwargs)
        if self.exc is not None and method == self.target[0] and str(url).endswith(self.target[1]):
            exc, self.exc = self.exc, None
            raise exc
        return response


def session_over(emulator: Emulator, credentials: LwaCredentials, sleeps: Sleeps, http: requests.Session) -> AdsSession:
    return AdsSession(emulator.url, TokenProvider(credentials, emulator.token_url), http=http, sleep=sleeps)


def test_audience_create_is_not_resent_after_a_5xx(emulator: Emulator, client: AudiencesClient, sleeps: Sleeps) -> None:
    emulator.faults.fail_next(1, status=503, path_prefix="/amc/audiences/metadata")
    with pytest.raises(ApiError, match="may have been created — look it up") as info:
        new_audience(client)
    assert info.value.status == 503 and not info.value.retryable
    assert "ext-1" in str(info.value)
    assert len(calls(emulator, "/amc/audiences/metadata")) == 1 and sleeps.calls == []


@pytest.mark.parametrize(
    "lost",
    [
        requests.ReadTimeout("read timed out"),
        requests.ConnectionError(urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError())),
    ],
    ids=["read-timeout", "reset-after-send"],
)
def test_audience_create_is_not_resent_when_the_answer_is_lost(
    emulator: Emulator, credentials: LwaCredentials, sleeps: Sleeps, lost: Exception
) -> None:
    http = LosesResponse("POST", "/amc/audiences/metadata", lost)
    client = AudiencesClient(session_over(emulator, credentials, sleeps, http))
    with pytest.raises(ApiError, match=r"no answer .*; the audience .* may have been created") as info:
        new_audience(client)
    assert not info.value.retryable
    assert len(calls(emulator, "/amc/audiences/metadata")) == 1  # the one that created it; no 'already exists'


def test_audience_create_is_retried_when_provably_not_processed(
    emulator: Emulator, client: AudiencesClient, credentials: LwaCredentials, sleeps: Sleeps
) -> None:
    emulator.faults.throttle_next(1, retry_after=0.01, path_prefix="/amc/audiences/metadata")
    assert new_audience(client) > 0  # a throttled request was not processed
    with Emulator() as gone:
        dead_url = gone.url
    session = AdsSession(dead_url, TokenProvider(credentials, emulator.token_url), sleep=sleeps)
    with pytest.raises(ApiError, match="no response after 8 attempts"):  # connection refused: never sent
        AudiencesClient(session).create_audience(
            {"name": "Integration audience", "metadata": {"externalAudienceId": "x"}}
        )


def test_records_batch_is_retried_after_a_lost_answer_and_membership_is_unchanged(
    emulator: Emulator, client: AudiencesClient, credentials: LwaCredentials, sleeps: Sleeps
) -> None:
    audience_id = new_audience(client)
    emulator.faults.fail_next(1, status=503, path_prefix="/amc/audiences/records")
    first = client.upload_records(audience_id, [record("u1")], None)
    http = LosesResponse("POST", "/amc/audiences/records", requests.ReadTimeout("read timed out"))
    lossy = AudiencesClient(session_over(emulator, credentials, sleeps, http))
    second = lossy.upload_records(audience_id, [record("u2"), record("u3")], None)
    assert len([r for r in calls(emulator, "/amc/audiences/records") if r.method == "POST"]) == 4
    assert _wait_terminal(client, first).state == "SUCCEEDED"
    assert _wait_terminal(client, second).state == "SUCCEEDED"
    _wait_terminal(client, client.upload_records(audience_id, [record("u3", "DELETE")], None))
    assert emulator.audience_members(audience_id) == {"u1", "u2"}  # the duplicated batch added nobody twice


def test_get_is_still_retried_after_a_5xx(emulator: Emulator, client: AudiencesClient, sleeps: Sleeps) -> None:
    audience_id = new_audience(client)
    emulator.faults.fail_next(2, status=500, path_prefix="/amc/audiences/metadata")
    assert client.get_audience(audience_id)["audienceId"] == audience_id
    assert len(sleeps.calls) == 2


def test_a_token_endpoint_failing_once_is_retried(emulator: Emulator, client: AudiencesClient, sleeps: Sleeps) -> None:
    emulator.faults.fail_next(1, status=503, path_prefix="/auth/o2/token")
    assert "agreementToken" in client.terms()
    assert len(calls(emulator, "/auth/o2/token")) == 2 and len(sleeps.calls) == 1
    assert len(calls(emulator, "/amc")) == 1


def test_a_token_connection_reset_mid_run_is_retried(
    emulator: Emulator, credentials: LwaCredentials, sleeps: Sleeps
) -> None:
    class ResetOnce(requests.Session):
        resets = 1

        def post(self, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
            if self.resets:
                self.resets -= 1
                raise requests.ConnectionError("Connection reset by peer")
            return super().post(url, *args, **kwargs)

    tokens = TokenProvider(credentials, emulator.token_url, http=ResetOnce())
    assert AudiencesClient(AdsSession(emulator.url, tokens, sleep=sleeps)).connections() == []
    assert len(sleeps.calls) == 1


def test_a_revoked_refresh_token_is_not_retried(emulator: Emulator, client: AudiencesClient, sleeps: Sleeps) -> None:
    emulator.revoke_refresh_token()
    with pytest.raises(AuthError, match="invalid_grant") as info:
        client.terms()
    assert not info.value.retryable and sleeps.calls == []


def test_token_failures_give_up_after_max_attempts(emulator: Emulator, client: AudiencesClient, sleeps: Sleeps) -> None:
    emulator.faults.fail_next(10, status=503, path_prefix="/auth/o2/token")
    with pytest.raises(AuthError) as info:
        client.terms()
    assert info.value.retryable  # Step Functions may try again later
    assert len(calls(emulator, "/auth/o2/token")) == client.session.policy.max_attempts
    assert calls(emulator, "/amc") == []
