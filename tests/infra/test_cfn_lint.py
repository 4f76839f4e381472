"""AWS's own template linter, cfn-lint, over every template of the fixture app: no error, no unexplained warning."""

from __future__ import annotations

from cfnlint.api import ManualArgs, lint_file
from tests.infra.synthesized import synthesized

from adsbridge.regions import Region

# Warnings we keep, each with why; anything else cfn-lint warns about fails the suite.
KNOWN_WARNINGS = {
    "W3005": "CDK's lambda.Function references its role with GetAtt and also DependsOn it (and its default "
    "policy, so the function never runs before its grants exist); the redundancy is CDK's and harmless",
}
REGIONS = sorted({realm.aws_region for realm in Region} | {"us-east-1"})


def test_templates_pass_cfn_lint() -> None:
    findings = [
        f"{stack}: {match.rule.id} {match.message} (line {match.linenumber})"
        for stack, path in synthesized().templates.items()
        for match in lint_file(path, ManualArgs(regions=REGIONS))
        if match.rule.id not in KNOWN_WARNINGS
    ]
    assert not findings, "\n".join(findings)
