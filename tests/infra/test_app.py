"""The CDK app: the operator's config decides the stacks; every stack is gated by cdk-nag; `cdk synth` works offline."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template
from infra.app import AppConfigError, add_stacks, build_app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "adsbridge.example.json"


def test_nag_findings_fail_synthesis() -> None:
    stack = cdk.Stack(build_app(), "NagProbe")
    s3.Bucket(stack, "PlainBucket")  # no SSL enforcement, no access logs
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        Template.from_stack(stack)


def test_example_config_builds_nag_clean_stacks() -> None:
    stacks = add_stacks(build_app(), EXAMPLE)
    assert sorted(s.stack_name for s in stacks) == ["AdsbridgeExport", "AdsbridgeStream-NA"]
    for stack in stacks:
        Template.from_stack(stack)  # raises on any unacknowledged finding


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not found; copy adsbridge.example.json"),
        ("[]", "expected an object with any of the sections stream, export"),
        ('{"streams": {}}', "expected an object with any of the sections"),
        ('{"stream": {"realms": ["APAC"]}}', "realms"),
        ('{"stream": {"realms": ["NA"], "datasets": ["sp-trafic"]}}', "sp-trafic"),
    ],
)
def test_bad_config_names_the_problem(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "adsbridge.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(AppConfigError, match=message):
        add_stacks(build_app(), path)


def test_bad_job_names_the_job_and_field(tmp_path: Path) -> None:
    config = json.loads(EXAMPLE.read_text())
    config["export"]["jobs"][0]["settings"]["time_to_live"] = -1
    path = tmp_path / "adsbridge.json"
    path.write_text(json.dumps(config))
    with pytest.raises(AppConfigError, match=r"job 'crm-high-value': settings: .*time_to_live"):
        add_stacks(build_app(), path)


@pytest.mark.skipif(not (ROOT / "node_modules/.bin/cdk").exists(), reason="node_modules not installed (make setup)")
def test_cdk_cli_synthesises_offline(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{ROOT / 'node_modules/.bin'}{os.pathsep}{os.environ['PATH']}"}
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    out = tmp_path / "cdk.out"
    result = subprocess.run(
        [shutil.which("cdk", path=env["PATH"]) or "cdk", "synth", "--quiet", "--no-notices", "--no-version-reporting",
         "-c", f"config={EXAMPLE}", "-o", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert {p.name for p in out.glob("*.template.json")} == {
        "AdsbridgeExport.template.json",
        "AdsbridgeStream-NA.template.json",
    }
