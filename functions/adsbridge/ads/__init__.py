"""Amazon Ads API client: Login with Amazon auth, a retrying session, AMC audiences and stream subscriptions."""

from __future__ import annotations

import os
from collections.abc import Mapping

from adsbridge.ads.audiences import AudiencesClient, JobStatus
from adsbridge.ads.auth import LwaCredentials, TokenProvider, token_url
from adsbridge.ads.errors import AdsError, ApiError, AuthError, ContractError
from adsbridge.ads.session import AdsSession, RetryPolicy, api_url
from adsbridge.ads.streams import Owner, StreamsClient, Subscription
from adsbridge.regions import Region

__all__ = [
    "AdsError",
    "AdsSession",
    "ApiError",
    "AudiencesClient",
    "AuthError",
    "ContractError",
    "JobStatus",
    "LwaCredentials",
    "Owner",
    "RetryPolicy",
    "StreamsClient",
    "Subscription",
    "TokenProvider",
    "audiences_client",
    "session_for",
]


def session_for(
    region: Region,
    credentials: LwaCredentials | None = None,
    *,
    env: Mapping[str, str] | None = None,
    policy: RetryPolicy | None = None,
) -> AdsSession:
    """A session for ``region``; credentials and host overrides come from the environment by default."""
    env = os.environ if env is None else env
    credentials = credentials or LwaCredentials.from_env(env)
    tokens = TokenProvider(credentials, token_url(region, env))
    return AdsSession(api_url(region, env), tokens, policy=policy)


def audiences_client(
    region: Region,
    credentials: LwaCredentials | None = None,
    *,
    env: Mapping[str, str] | None = None,
    policy: RetryPolicy | None = None,
) -> AudiencesClient:
    """A ready AMC audiences client for ``region`` (see :func:`session_for`)."""
    return AudiencesClient(session_for(region, credentials, env=env, policy=policy))
