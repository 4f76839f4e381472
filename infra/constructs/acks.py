"""cdk-nag acknowledgements, attached where the finding is, each with its reason: one helper for every stack.

Rules are named without the ``AwsSolutions::`` pack prefix, e.g. ``AwsSolutions-IAM5[Resource::*]``.
"""

from __future__ import annotations

import aws_cdk as cdk

from constructs import IConstruct


def acknowledge(scope: IConstruct, rules: dict[str, str]) -> None:
    scope.node.add_metadata(
        cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY, {f"AwsSolutions::{k}": v for k, v in rules.items()}
    )
