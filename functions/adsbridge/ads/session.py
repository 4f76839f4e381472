"""HTTP session for the Amazon Ads API: auth headers, vendor media types, retries, exact JSON numbers.

Retry policy: 429 waits for ``Retry-After`` when given; 429 without it, 5xx and connection
errors back off exponentially with full jitter, capped; a 401 refreshes the token once; other 4xx fail at
once. A call marked ``idempotent=False`` (one whose re-send could do the work twice, such as creating an
audience) is re-sent only when the request provably was not processed: a 429, a 401, or a connection that
was never established; after a read timeout, a dropped connection or a 5xx it raises a non-retryable error that
says what may have happened. A retryable Login with Amazon failure while fetching the token (a connection
reset, an LwA 5xx) is retried like a connection error; ``invalid_grant`` and bad client credentials are not.
With a ``deadline`` (a Lambda's remaining time) the session neither starts an attempt nor sleeps
into the last ``reserve`` seconds: it raises the retryable error instead, so Step Functions does the waiting
rather than the Lambda timing out. Responses are parsed with ``parse_float=Decimal`` and Python ints, so 18-digit ids survive intact.

Amazon's rules for retries and throttling: docs/amc-audiences-api.md#retries-and-throttling.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import requests
import urllib3.exceptions

from adsbridge.ads.auth import TokenProvider
from adsbridge.ads.contract import CLIENT_ID_HEADER
from adsbridge.ads.errors import AdsError, ApiError, AuthError
from adsbridge.regions import Region

API_HOSTS = {
    Region.NA: "https://advertising-api.amazon.com",
    Region.EU: "https://advertising-api-eu.amazon.com",
    Region.FE: "https://advertising-api-fe.amazon.com",
}


def api_url(region: Region, env: Mapping[str, str] | None = None) -> str:
    """The regional Ads API host, unless ``ADSBRIDGE_API_URL`` overrides it."""
    env = os.environ if env is None else env
    return (env.get("ADSBRIDGE_API_URL") or API_HOSTS[region]).rstrip("/")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_retry_after: float = 300.0
    timeout: tuple[float, float] = (5.0, 30.0)  # connect, read
    deadline: Callable[[], float] | None = None  # seconds the caller has left; None: no limit
    reserve: float = 45.0  # kept before the deadline: one attempt's timeouts plus the caller's bookkeeping

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter exponential backoff for the given (1-based) failed attempt."""
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


@dataclass
class CallStats:
    """What the session did, for reports and tests: requests sent, retries, token refreshes on 401."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    unauthorized: int = 0


class AdsSession:
    """Sends one logical API call, retrying as the policy says; raises ApiError on a final failure."""

    def __init__(
        self,
        base_url: str,
        tokens: TokenProvider,
        *,
        http: requests.Session | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.policy = policy or RetryPolicy()
        self.stats = CallStats()
        self._http = http or requests.Session()
        self._sleep = sleep
        self._rng = rng or random.Random()

    def call(
        self,
        method: str,
        path: str,
        *,
        media_type: str,
        body: Mapping[str, Any] | None = None,
        raw_body: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
        if_processed: str = "the request may have been processed",
    ) -> Any:
        """Send one call; ``raw_body`` is pre-encoded JSON (the records path builds it once, without a re-dump).

        ``headers`` adds per-call headers such as the profile or DSP account scope. ``idempotent=False`` keeps a
        request that may have reached the API from being sent twice; ``if_processed`` then tells the operator
        what may have happened (e.g. "the audience may have been created — look it up before re-running").
        """
        if raw_body is None and body is not None:
            raw_body = json.dumps(body, separators=(",", ":")).encode()
        request = _Request(method, path, media_type, raw_body, params, headers or {}, idempotent, if_processed)
        refreshed = False
        attempt = 0
        while True:
            if not self._has_time(0.0):
                raise ApiError(method, path, 0, "not sent: too close to the caller's deadline")
            attempt += 1
            outcome = self._attempt(request, attempt, may_refresh=not refreshed)
            if isinstance(outcome, _Answer):
                return outcome.body
            if outcome is None:  # the token was refreshed after a 401: not a failed attempt
                refreshed = True
                attempt -= 1
                continue
            self._retry_or_raise(outcome, attempt)

    def _attempt(self, request: _Request, attempt: int, *, may_refresh: bool) -> _Answer | _Failure | None:
        """One try: the answer, a failure the retry policy decides on, or None after a token refresh.

        Raises at once what no retry may touch: a non-retryable Login with Amazon error, and a failure after
        which a non-idempotent request may have been processed.
        """
        try:
            token = self.tokens.token()
        except AuthError as exc:  # an LwA blip at refresh time: back off like a connection error
            if not exc.retryable:
                raise
            return _Failure(exc, self.policy.backoff(attempt, self._rng))
        sent = {
            **request.headers,
            "Authorization": f"Bearer {token}",
            CLIENT_ID_HEADER: self.tokens.credentials.client_id,
            "Accept": request.media_type,
        }
        if request.data is not None:
            sent["Content-Type"] = request.media_type
        self.stats.requests += 1
        try:
            response = self._http.request(
                request.method,
                self.base_url + request.path,
                data=request.data,
                params=request.params,
                headers=sent,
                timeout=self.policy.timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            if not request.idempotent and not _not_sent(exc):
                what = "read timeout" if isinstance(exc, requests.ReadTimeout) else type(exc).__name__
                raise request.error(0, f"no answer ({what}); {request.if_processed}", retryable=False) from None
            error = request.error(0, f"no response after {attempt} attempts ({type(exc).__name__})")
            return _Failure(error, self.policy.backoff(attempt, self._rng))
        status = response.status_code
        if status < 300:
            return _Answer(_parse(response))
        request_id = response.headers.get("x-amzn-RequestId")
        if status >= 500 and not request.idempotent:
            raise request.error(status, f"{_message(response)}; {request.if_processed}", request_id, retryable=False)
        if status == 401 and may_refresh:
            self.stats.unauthorized += 1
            self.tokens.invalidate(token)
            return None
        return _Failure(request.error(status, _message(response), request_id), self._delay(response, attempt))

    def _retry_or_raise(self, failure: _Failure, attempt: int) -> None:
        """The retry decision: wait and try again, or raise when the error, the attempts or the time say so."""
        error = failure.error
        if not error.retryable or attempt >= self.policy.max_attempts or not self._has_time(failure.delay):
            raise error from None
        if isinstance(error, ApiError) and error.status == 429:
            self.stats.throttled += 1
        self._wait(failure.delay)

    def _has_time(self, seconds: float) -> bool:
        """Whether waiting ``seconds`` still leaves the policy's reserve before the caller's deadline."""
        return self.policy.deadline is None or self.policy.deadline() - seconds >= self.policy.reserve

    def _delay(self, response: requests.Response, attempt: int) -> float:
        retry_after = response.headers.get("Retry-After")
        if response.status_code == 429 and retry_after:
            try:
                return min(max(float(retry_after), 0.0), self.policy.max_retry_after)
            except ValueError:  # an HTTP-date; fall back to backoff
                pass
        return self.policy.backoff(attempt, self._rng)

    def _wait(self, seconds: float) -> None:
        self.stats.retries += 1
        self._sleep(seconds)


@dataclass(frozen=True)
class _Request:
    """One logical call, as every attempt sends it."""

    method: str
    path: str
    media_type: str
    data: bytes | None
    params: Mapping[str, str] | None
    headers: Mapping[str, str]
    idempotent: bool
    if_processed: str

    def error(
        self, status: int, message: str, request_id: str | None = None, *, retryable: bool | None = None
    ) -> ApiError:
        return ApiError(self.method, self.path, status, message, request_id, retryable=retryable)


@dataclass(frozen=True)
class _Answer:
    body: Any


@dataclass(frozen=True)
class _Failure:
    error: AdsError
    delay: float  # how long to wait before the next attempt


def _not_sent(exc: requests.RequestException) -> bool:
    """Whether a transport error provably happened before the request reached the API.

    requests raises ``ConnectTimeout`` (a ``ConnectionError`` and a ``Timeout``) when no connection was
    made, and ``ConnectionError`` wrapping urllib3's ``MaxRetryError(NewConnectionError)`` for a refused or
    unresolvable host. ``ReadTimeout``, and ``ConnectionError`` wrapping a ``ProtocolError`` (connection
    reset or closed after the request went out), may follow a request the API processed.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ReadTimeout) or not isinstance(exc, requests.ConnectionError):
        return False
    cause = exc.args[0] if exc.args else None
    return isinstance(cause, urllib3.exceptions.MaxRetryError) and isinstance(
        cause.reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError
    )


def _parse(response: requests.Response) -> Any:
    if not response.content:
        return {}
    return json.loads(response.content, parse_float=Decimal)


def _message(response: requests.Response) -> str:
    """The API's error message, shortened; Amazon's error bodies use ``message`` or ``Message``."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return response.reason or "error"
    if isinstance(body, dict):
        text = body.get("message") or body.get("Message") or body.get("code") or response.reason
        return str(text)[:300]
    return response.reason or "error"
