"""Checks shared by the stack tests: the IAM5 acknowledgement for X-Ray must never hide another wildcard."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Template

XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def wildcard_actions(template: Template) -> set[str]:
    """Every action granted on Resource "*" by any IAM policy in the template."""
    found: set[str] = set()
    for policy in template.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement.get("Resource") == "*" or "*" in _as_list(statement.get("Resource")):
                found.update(_as_list(statement["Action"]))
    return found


def assert_only_xray_on_wildcards(template: Template) -> None:
    extra = wildcard_actions(template) - XRAY_ACTIONS
    assert not extra, f"actions on Resource '*' beyond X-Ray (the IAM5 acknowledgement would hide them): {extra}"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
