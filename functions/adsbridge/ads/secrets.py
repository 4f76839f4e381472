"""LwA credentials from AWS Secrets Manager: one secret per Amazon account, JSON with three fields."""

from __future__ import annotations

import json
from typing import Any

from adsbridge.ads.auth import LwaCredentials
from adsbridge.ads.errors import AuthError

SECRET_FIELDS = ("client_id", "client_secret", "refresh_token")


def credentials_from_secret(secrets: Any, secret_id: str) -> LwaCredentials:
    """Read ``secret_id`` with an injected Secrets Manager client; errors name fields, never values."""
    raw = secrets.get_secret_value(SecretId=secret_id)["SecretString"]
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        raise AuthError(f"secret {secret_id}: not a JSON object", retryable=False) from None
    missing = [name for name in SECRET_FIELDS if not isinstance(data, dict) or not data.get(name)]
    if missing:
        raise AuthError(f"secret {secret_id}: missing {', '.join(missing)}", retryable=False)
    return LwaCredentials(*(str(data[name]) for name in SECRET_FIELDS))


def store_credentials(secrets: Any, secret_id: str, credentials: LwaCredentials) -> str:
    """Write the three fields as a new version of ``secret_id``, creating the secret if it does not exist.

    Returns ``"updated"`` or ``"created"``; the values never appear in what it returns or raises.
    """
    value = json.dumps({name: getattr(credentials, name) for name in SECRET_FIELDS})
    try:
        secrets.put_secret_value(SecretId=secret_id, SecretString=value)
    except secrets.exceptions.ResourceNotFoundException:
        secrets.create_secret(Name=secret_id, SecretString=value)
        return "created"
    return "updated"
