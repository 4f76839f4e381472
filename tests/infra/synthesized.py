"""The whole app synthesised once per test session from ``fixtures/adsbridge.json``, for AWS's own validators.

The fixture exercises every realm, an S3-drop job and a scheduled job, and gives every id 18 or 19 digits
(some as JSON numbers), so the validators and the id checks see everything the app can synthesise.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.app import add_stacks, build_app

CONFIG = Path(__file__).resolve().parent / "fixtures/adsbridge.json"
REGION, ACCOUNT = "us-east-1", "123456789012"
PSEUDO = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}


@dataclass(frozen=True)
class Synthesized:
    """``templates``: stack name → template file in the cloud assembly (read as text where numbers matter)."""

    templates: dict[str, Path]

    def template(self, stack: str) -> dict[str, Any]:
        return dict(json.loads(self.templates[stack].read_text()))

    def resources(self, kind: str) -> dict[tuple[str, str], dict[str, Any]]:
        """(stack, logical id) → resource, for every resource of type ``kind`` in every template."""
        return {
            (stack, logical_id): resource
            for stack in self.templates
            for logical_id, resource in self.template(stack)["Resources"].items()
            if resource["Type"] == kind
        }

    def code(self, stack: str, function: dict[str, Any]) -> Path:
        """The folder in the cloud assembly that a Lambda function's code is zipped from."""
        key = function["Properties"]["Code"].get("S3Key", "")
        return self.templates[stack].parent / f"asset.{key.removesuffix('.zip')}"

    def resolve(self, stack: str, value: Any) -> Any:
        """``value`` as CloudFormation would fill it: Ref, GetAtt and Join resolved to plausible names and ARNs."""
        if isinstance(value, list):
            return [self.resolve(stack, each) for each in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            return PSEUDO.get(value["Ref"], f"{value['Ref'].lower()}-placeholder")
        if "Fn::GetAtt" in value:
            logical_id, _ = value["Fn::GetAtt"]
            service = self.template(stack)["Resources"][logical_id]["Type"].split("::")[1].lower()
            kind = "function:" if service == "lambda" else ""
            return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{kind}{logical_id}"
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(str(self.resolve(stack, part)) for part in parts)
        return {key: self.resolve(stack, each) for key, each in value.items()}


def built_asset(code: Path) -> str | None:
    """Which build (``.build/<name>``, scripts/build_lambda.py) a function's code folder is a copy of, by what it
    holds; None for CDK's own functions."""
    if not (code / "adsbridge").is_dir():
        return None
    return "lambda-pyarrow" if (code / "pyarrow").is_dir() else "lambda"


@functools.cache
def synthesized() -> Synthesized:
    """Synthesise (cdk-nag gates it, as ``cdk synth`` would) and keep the assembly for the session."""
    app = build_app()
    stacks = add_stacks(app, CONFIG)
    assembly = app.synth()
    return Synthesized(templates={stack.stack_name: Path(assembly.directory) / stack.template_file for stack in stacks})
