"""One-time Login with Amazon authorization: the consent URL, then the authorization-code grant.

The advertiser's user opens the consent URL, Amazon redirects to ``redirect_uri`` with ``code`` and ``state``,
and ``exchange_code`` turns that single-use code (valid 5 minutes) into the refresh token adsbridge keeps.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from urllib.parse import urlencode

import requests

from adsbridge.ads.auth import LwaCredentials, request_token
from adsbridge.ads.errors import AuthError
from adsbridge.regions import Region

CONSENT_URLS = {
    Region.NA: "https://www.amazon.com/ap/oa",
    Region.EU: "https://eu.account.amazon.com/ap/oa",
    Region.FE: "https://apac.account.amazon.com/ap/oa",
}
# advertising::audiences is not requested: Amazon adds it to this grant once the app has data-provider access.
DEFAULT_SCOPES = ("advertising::campaign_management",)


def new_state() -> str:
    """An unguessable ``state`` value; the redirect must carry it back unchanged (CSRF protection)."""
    return secrets.token_urlsafe(24)


def consent_url(region: Region, client_id: str, redirect_uri: str, scopes: Sequence[str], state: str) -> str:
    query = {
        "client_id": client_id,
        "scope": " ".join(scopes),
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "state": state,
    }
    return f"{CONSENT_URLS[region]}?{urlencode(query)}"


def exchange_code(
    url: str, client_id: str, client_secret: str, code: str, redirect_uri: str, *, http: requests.Session | None = None
) -> LwaCredentials:
    """The authorization-code grant; raises a non-retryable AuthError when Amazon refuses the code."""
    body = request_token(
        url,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "client_secret": client_secret,
        },
        http=http or requests.Session(),
        invalid_grant="Login with Amazon refused the authorization code (invalid_grant): a code is single-use, "
        "expires after 5 minutes and needs the consent URL's exact redirect_uri; open a new consent URL",
    )
    if not body.get("refresh_token"):
        raise AuthError("Login with Amazon answered without a refresh token", retryable=False)
    return LwaCredentials(client_id, client_secret, str(body["refresh_token"]))
