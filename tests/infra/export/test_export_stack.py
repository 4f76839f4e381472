"""ExportStack: nag-clean, buckets locked down, one rule per job, substitutions for the ASL file, scoped IAM."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from infra.app import build_app
from infra.export.config import ConfigError, parse_export_config
from infra.export.stack import build_export_stacks
from tests.infra.policies import XRAY_ACTIONS, wildcard_actions

ROOT = Path(__file__).resolve().parents[3]
MACHINE_WILDCARD_ACTIONS = {"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
                        "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                        "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
                        "xray:GetSamplingRules", "xray:GetSamplingTargets"}  # fmt: skip
SETTINGS = json.loads((ROOT / "samples/settings.json").read_text())


def config(**changes: Any) -> dict[str, Any]:
    return {"jobs": [{"name": "crm", "settings": SETTINGS, "secret_name": "adsbridge/acct-1",
                      "trigger": {"prefix": "crm/"}}], **changes}  # fmt: skip


@pytest.fixture(scope="module")
def template() -> Template:
    [stack] = build_export_stacks(build_app(), parse_export_config(config(raw_retention_days=3)))
    return Template.from_stack(stack)  # raises on any unacknowledged cdk-nag finding


def test_stack_passes_nag_with_scoped_policies(template: Template) -> None:
    """Beyond X-Ray writes, only the state machine's log delivery and X-Ray sampling use "*" (no resource-level permissions)."""
    extra = wildcard_actions(template) - XRAY_ACTIONS
    assert extra == MACHINE_WILDCARD_ACTIONS


def test_input_bucket_is_locked_down_and_expires_raw_drops(template: Template) -> None:
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": True}},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
            "BucketEncryption": Match.any_value(),
            "LifecycleConfiguration": {"Rules": [{"ExpirationInDays": 3, "Prefix": "incoming/", "Status": "Enabled"}]},
        },
    )  # fmt: skip
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {"PolicyDocument": {"Statement": Match.array_with([Match.object_like(
            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])}},
    )  # fmt: skip
    for bucket in template.find_resources("AWS::S3::Bucket").values():
        assert "VersioningConfiguration" not in bucket["Properties"]


def test_rule_starts_the_state_machine_with_the_job_and_object(template: Template) -> None:
    rules = template.find_resources("AWS::Events::Rule")
    [rule] = rules.values()
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "incoming/crm/"}]
    [target] = rule["Properties"]["Targets"]
    assert "Ref" in target["Arn"] and "InputTransformer" in target
    text = json.dumps(target["InputTransformer"])
    assert "$.detail.object.key" in text and "adsbridge/acct-1" in text
    template.resource_count_is("AWS::Lambda::Permission", 0)  # no glue Lambda


def test_state_machine_substitutes_every_placeholder_of_the_asl_file(template: Template) -> None:
    [machine] = template.find_resources("AWS::StepFunctions::StateMachine").values()
    substitutions = machine["Properties"]["DefinitionSubstitutions"]
    asl = (ROOT / "infra/export/statemachine/export.asl.json").read_text()
    assert set(substitutions) == set(re.findall(r"\$\{(\w+)\}", asl))
    assert substitutions["MaxConcurrency"] == "4"
    assert machine["Properties"]["TracingConfiguration"] == {"Enabled": True}


def test_functions_get_only_their_prefixes_and_the_job_secret(template: Template) -> None:
    text = json.dumps(template.find_resources("AWS::IAM::Policy"))
    assert "adsbridge/acct-1-??????" in text
    for policy in template.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert "s3:*" not in statement["Action"] and statement["Action"] != "*"
    template.has_resource_properties("AWS::CloudWatch::Alarm", {"MetricName": "ExecutionsFailed", "Threshold": 1})


def test_invalid_job_fails_naming_job_and_field() -> None:
    bad = config()
    bad["jobs"][0]["settings"] = {**SETTINGS, "max_wait_time": 5000}
    with pytest.raises(ConfigError, match=r"job 'crm': settings: max_wait_time"):
        parse_export_config(bad)
