"""CDK entry point (``cdk.json`` runs this): the stacks an operator's ``adsbridge.json`` asks for.

Every stack is checked by cdk-nag's AwsSolutions rules, so nothing synthesises unchecked. The config file
(``-c config=PATH``, default ``adsbridge.json``) has an optional ``stream`` section (realms and datasets of
Marketing Stream) and an optional ``export`` section (audience export jobs); see ``adsbridge.example.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.export.config import parse_export_config
from infra.export.stack import build_export_stacks
from infra.stream.config import StreamConfig
from infra.stream.stack import build_stream_stacks
from infra.stream.v2_stack import build_v2_stacks

DEFAULT_CONFIG = "adsbridge.json"
SECTIONS = ("stream", "export")
# Feature flags every adsbridge app sets, whatever the caller's context: a server-access-log bucket is granted
# to the S3 logging service by its bucket policy, not by the legacy LogDeliveryWrite ACL (cfn-lint W3045).
FEATURE_FLAGS = {"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True}


class AppConfigError(ValueError):
    """The operator's config file cannot be used; the message names the file and the field."""


def build_app(context: dict[str, Any] | None = None) -> cdk.App:
    app = cdk.App(context={**(context or {}), **FEATURE_FLAGS})
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return app


def add_stacks(app: cdk.App, config_path: str | Path) -> list[cdk.Stack]:
    """Validate the config file, then add the stream and export stacks it asks for."""
    path = Path(config_path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AppConfigError(
            f"{path}: not found; copy adsbridge.example.json to {DEFAULT_CONFIG} and edit it"
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise AppConfigError(f"{path}: {exc}") from None
    if not isinstance(data, dict) or not data or set(data) - set(SECTIONS):
        raise AppConfigError(f"{path}: expected an object with any of the sections {', '.join(SECTIONS)}")
    try:
        stacks = []
        if "stream" in data:
            stream = StreamConfig.parse(data["stream"])
            v1 = build_stream_stacks(app, stream)
            stacks += [*v1, *build_v2_stacks(app, stream, v1)]
        if "export" in data:
            stacks += build_export_stacks(app, parse_export_config(data["export"]))
    except ValueError as exc:
        raise AppConfigError(f"{path}: {exc}") from None
    return stacks


def main() -> None:
    app = build_app()
    try:
        add_stacks(app, app.node.try_get_context("config") or DEFAULT_CONFIG)
    except AppConfigError as exc:
        raise SystemExit(f"adsbridge: {exc}") from None
    app.synth()


if __name__ == "__main__":
    main()
