"""Errors raised by the Amazon Ads client; ``retryable`` tells callers (and Step Functions) what to do."""

from __future__ import annotations


class AdsError(Exception):
    """Base class for everything the Amazon Ads client raises."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class AuthError(AdsError):
    """Login with Amazon failed (missing credentials, revoked refresh token, bad client)."""


class ContractError(AdsError):
    """A value Amazon's API model refuses, caught before the request is sent; the message names the field."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


class ApiError(AdsError):
    """The Ads API answered with an error status after any retries."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int,
        message: str,
        request_id: str | None = None,
        *,
        retryable: bool | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.api_message = message
        self.request_id = request_id
        if retryable is None:  # 0: no response (connection error, timeout)
            retryable = status in (0, 429) or status >= 500
        suffix = f" (request id {request_id})" if request_id else ""
        super().__init__(f"{method} {path} -> HTTP {status}: {message}{suffix}", retryable=retryable)
