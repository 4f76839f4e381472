"""A template rule that refuses deployment outside one region: synth-time checks cannot see where it lands."""

from __future__ import annotations

import aws_cdk as cdk

from constructs import Construct


def deploy_only_in(scope: Construct, construct_id: str, region: str, *, why: str) -> cdk.CfnRule:
    """CloudFormation fails the deployment with ``why`` unless the stack is being deployed to ``region``."""
    return cdk.CfnRule(
        scope,
        construct_id,
        assertions=[
            cdk.CfnRuleAssertion(assert_=cdk.Fn.condition_equals(cdk.Aws.REGION, region), assert_description=why)
        ],
    )
