"""The CDK app checks every stack with cdk-nag's AwsSolutions rules: findings fail synthesis."""

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template
from infra.app import build_app


def test_nag_findings_fail_synthesis() -> None:
    stack = cdk.Stack(build_app(), "NagProbe")
    s3.Bucket(stack, "PlainBucket")  # no SSL enforcement, no access logs
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        Template.from_stack(stack)
