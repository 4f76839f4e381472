"""``adsbridge auth``: authorise adsbridge once per Amazon account and keep the refresh token in Secrets Manager.

``auth url`` prints the consent URL to open as the advertiser's user; ``auth exchange`` redeems the code from the
redirect and stores ``{client_id, client_secret, refresh_token}`` in the secret an export job names.
"""

from __future__ import annotations

import argparse
import os
import sys

from adsbridge.regions import Region


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "auth",
        help="Login with Amazon: print the consent URL, then store the refresh token in Secrets Manager",
        description="Run `auth url`, open the URL as the advertiser's user, then run `auth exchange` with the code "
        "from the redirect within 5 minutes. ADSBRIDGE_TOKEN_URL overrides Amazon's token URL.",
    )
    commands = parser.add_subparsers(dest="auth_command", required=True)
    url = commands.add_parser("url", help="print the consent URL (with a fresh random state)")
    exchange = commands.add_parser("exchange", help="redeem the authorization code and store the credentials")
    for sub in (url, exchange):
        sub.add_argument("--region", required=True, type=Region, choices=list(Region), help="NA, EU or FE")
        sub.add_argument("--redirect-uri", required=True, help="an allowed return URL of your LwA security profile")
        sub.add_argument("--client-id", help="LwA client id (default: $ADSBRIDGE_CLIENT_ID)")
    url.add_argument(
        "--scope", action="append", help="scope to request, repeatable (default: advertising::campaign_management)"
    )
    exchange.add_argument("--code", required=True, help="the `code` parameter of the redirect")
    exchange.add_argument("--secret-name", required=True, help="Secrets Manager secret to create or update")
    exchange.add_argument("--client-secret", help="LwA client secret (default: $ADSBRIDGE_CLIENT_SECRET)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from adsbridge.ads.errors import AdsError

    try:
        return _url(args) if args.auth_command == "url" else _exchange(args)
    except (AdsError, _Missing) as exc:
        print(f"adsbridge auth: {exc}", file=sys.stderr)
        return 2


class _Missing(ValueError):
    pass


def _option(args: argparse.Namespace, name: str, env: str) -> str:
    value = getattr(args, name) or os.environ.get(env)
    if not value:
        raise _Missing(f"--{name.replace('_', '-')} or {env} is required")
    return str(value)


def _url(args: argparse.Namespace) -> int:
    from adsbridge.ads.authorize import DEFAULT_SCOPES, consent_url, new_state

    state = new_state()
    client_id = _option(args, "client_id", "ADSBRIDGE_CLIENT_ID")
    print(consent_url(args.region, client_id, args.redirect_uri, args.scope or DEFAULT_SCOPES, state))
    print(f"state: {state} (the redirect must carry this exact value; otherwise do not use its code)", file=sys.stderr)
    return 0


def _exchange(args: argparse.Namespace) -> int:
    import boto3

    from adsbridge.ads.auth import token_url
    from adsbridge.ads.authorize import exchange_code
    from adsbridge.ads.secrets import store_credentials

    credentials = exchange_code(
        token_url(args.region),
        _option(args, "client_id", "ADSBRIDGE_CLIENT_ID"),
        _option(args, "client_secret", "ADSBRIDGE_CLIENT_SECRET"),
        args.code,
        args.redirect_uri,
    )
    done = store_credentials(boto3.client("secretsmanager"), args.secret_name, credentials)
    print(f"secret {args.secret_name} {done}: client_id, client_secret and refresh_token stored")
    return 0
