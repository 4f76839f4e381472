"""Amazon Ads API client: Login with Amazon auth, a retrying session, and the AMC audiences endpoints."""

from __future__ import annotations

import os
from collections.abc import Mapping

from adsbridge.ads.audiences import AudiencesClient, JobStatus
from adsbridge.ads.auth import LwaCredentials, TokenProvider, token_url
from adsbridge.ads.errors import AdsError, ApiError, AuthError
from adsbridge.ads.session import AdsSession, RetryPolicy, api_url
from adsbridge.regions import Region

__all__ = [
    "AdsError",
    "AdsSession",
    "ApiError",
    "AudiencesClient",
    "AuthError",
    "JobStatus",
    "LwaCredentials",
    "RetryPolicy",
    "TokenProvider",
    "audiences_client",
]


def audiences_client(
    region: Region,
    credentials: LwaCredentials | None = None,
    *,
    env: Mapping[str, str] | None = None,
    policy: RetryPolicy | None = None,
) -> AudiencesClient:
    """A ready client for ``region``; credentials and host overrides come from the environment by default."""
    env = os.environ if env is None else env
    credentials = credentials or LwaCredentials.from_env(env)
    tokens = TokenProvider(credentials, token_url(region, env))
    return AudiencesClient(AdsSession(api_url(region, env), tokens, policy=policy))
