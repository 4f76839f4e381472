"""Login with Amazon (LwA): refresh-token grant with a cached access token.

Access tokens live 60 minutes and are valid in every region, so one cached token serves the whole run;
it is renewed shortly before expiry, or at once when the API answers 401 (``invalidate``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from adsbridge.ads.errors import AuthError
from adsbridge.regions import Region

TOKEN_URLS = {
    Region.NA: "https://api.amazon.com/auth/o2/token",
    Region.EU: "https://api.amazon.co.uk/auth/o2/token",
    Region.FE: "https://api.amazon.co.jp/auth/o2/token",
}
REFRESH_MARGIN_SECONDS = 300  # renew this long before expiry so a long batch never starts with a dying token
TOKEN_TIMEOUT = (5.0, 15.0)


@dataclass(frozen=True, repr=False)
class LwaCredentials:
    """An LwA app's client id/secret and the advertiser's refresh token (repr hides the secrets)."""

    client_id: str
    client_secret: str
    refresh_token: str

    ENV = ("ADSBRIDGE_CLIENT_ID", "ADSBRIDGE_CLIENT_SECRET", "ADSBRIDGE_REFRESH_TOKEN")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LwaCredentials:
        env = os.environ if env is None else env
        missing = [name for name in cls.ENV if not env.get(name)]
        if missing:
            raise AuthError(f"missing credentials: set {', '.join(missing)}", retryable=False)
        return cls(*(env[name] for name in cls.ENV))

    def __repr__(self) -> str:
        return f"LwaCredentials(client_id={self.client_id!r}, client_secret=***, refresh_token=***)"


def token_url(region: Region, env: Mapping[str, str] | None = None) -> str:
    """The LwA token URL for ``region``, unless ``ADSBRIDGE_TOKEN_URL`` overrides it."""
    env = os.environ if env is None else env
    return env.get("ADSBRIDGE_TOKEN_URL") or TOKEN_URLS[region]


class TokenProvider:
    """Hands out a valid access token, refreshing it with the refresh-token grant when needed."""

    def __init__(
        self,
        credentials: LwaCredentials,
        url: str,
        *,
        http: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.credentials = credentials
        self.url = url
        self._http = http or requests.Session()
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.refresh_count = 0

    def token(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at - REFRESH_MARGIN_SECONDS:
                self._refresh()
            assert self._token is not None
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget ``token`` after a 401, unless another thread already replaced it."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _refresh(self) -> None:
        body = request_token(
            self.url,
            {
                "grant_type": "refresh_token",
                "refresh_token": self.credentials.refresh_token,
                "client_id": self.credentials.client_id,
                "client_secret": self.credentials.client_secret,
            },
            http=self._http,
            invalid_grant="Login with Amazon refused the refresh token (invalid_grant): it was revoked or belongs to "
            "another client; run the authorization again to get a new one",
        )
        self._token = str(body["access_token"])
        self._expires_at = self._clock() + float(body.get("expires_in", 3600))
        self.refresh_count += 1


def request_token(url: str, form: Mapping[str, str], *, http: requests.Session, invalid_grant: str) -> dict[str, Any]:
    """POST one LwA grant; a failure becomes an AuthError, with ``invalid_grant`` as the grant-specific message.

    No Authorization header: the LwA token endpoint rejects requests that carry one.
    """
    try:
        response = http.post(url, data=dict(form), timeout=TOKEN_TIMEOUT, headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise AuthError(f"token request to {url} failed: {type(exc).__name__}", retryable=True) from None
    body = _json_or_empty(response)
    if response.status_code == 200 and "access_token" in body:
        return body
    error = str(body.get("error", f"HTTP {response.status_code}"))
    if error == "invalid_grant":
        raise AuthError(invalid_grant, retryable=False)
    if error in ("invalid_client", "unauthorized_client"):
        raise AuthError(f"Login with Amazon refused the client id/secret ({error})", retryable=False)
    raise AuthError(f"token request failed: {error}", retryable=response.status_code >= 500)


def _json_or_empty(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
