"""cdk-nag acknowledgements, attached where the finding is, each with its reason."""

from __future__ import annotations

import aws_cdk as cdk

from constructs import Construct


def acknowledge(scope: Construct, rules: dict[str, str]) -> None:
    scope.node.add_metadata(
        cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY, {f"AwsSolutions::{k}": v for k, v in rules.items()}
    )
