"""AWS Labs' asl-validator (npm) over the export state machine as CloudFormation fills it from the synthesised
template: the definition asset CDK uploads, with the template's DefinitionSubstitutions resolved."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from infra.export.definition import fill
from tests.infra.synthesized import synthesized

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "node_modules/.bin/asl-validator"
pytestmark = pytest.mark.skipif(not VALIDATOR.exists(), reason="node_modules not installed (make setup)")


def validate(definition: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "definition.asl.json"
    path.write_text(definition)
    return subprocess.run([str(VALIDATOR), "--json-path", str(path)], capture_output=True, text=True, timeout=120)


def filled_definitions() -> list[str]:
    """Every state machine of the fixture app, filled the way CloudFormation fills it."""
    app = synthesized()
    filled = []
    for (stack, _), machine in app.resources("AWS::StepFunctions::StateMachine").items():
        properties = machine["Properties"]
        asset = app.templates[stack].parent / f"asset.{properties['DefinitionS3Location']['Key']}"
        values = {name: str(app.resolve(stack, value)) for name, value in properties["DefinitionSubstitutions"].items()}
        filled.append(fill(asset.read_text(), values))
    return filled


def test_filled_state_machines_are_valid_asl(tmp_path: Path) -> None:
    definitions = filled_definitions()
    assert definitions
    for definition in definitions:
        result = validate(definition, tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr


def test_validator_refuses_a_state_that_leads_nowhere(tmp_path: Path) -> None:
    """The check can fail: the same definition with a transition to a state that does not exist."""
    [definition] = filled_definitions()
    machine = json.loads(definition)
    machine["States"][machine["StartAt"]]["Next"] = "NoSuchState"
    assert validate(json.dumps(machine), tmp_path).returncode != 0
