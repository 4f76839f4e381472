"""The shared Lambda construct: arm64, Python 3.14, retained logs, a role scoped to them, nag-clean."""

import aws_cdk as cdk
from aws_cdk.assertions import Match, Template
from infra.app import build_app
from infra.constructs.function import AdsbridgeFunction
from tests.infra.policies import assert_only_xray_on_wildcards


def test_function_defaults_pass_nag() -> None:
    stack = cdk.Stack(build_app(), "FunctionProbe")
    AdsbridgeFunction(stack, "Fn", handler="adsbridge.probe.handler", service="probe", description="probe")
    template = Template.from_stack(stack)  # raises on any unacknowledged cdk-nag finding
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "TracingConfig": {"Mode": "Active"},
            "LoggingConfig": {"LogFormat": "JSON", "LogGroup": Match.any_value()},
            "Environment": {"Variables": Match.object_like({"POWERTOOLS_SERVICE_NAME": "probe"})},
        },
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})
    template.resource_properties_count_is("AWS::IAM::Role", {"ManagedPolicyArns": Match.any_value()}, 0)
    assert_only_xray_on_wildcards(template)
