"""The lock files are the truth: the venv, the Lambda asset and CI all install from them, never resolve anew.

A fresh machine once failed because nothing pinned boto3/botocore/moto (README, "Locked dependencies").
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).with_name("uv")


def _uv(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(UV), *args], cwd=ROOT, capture_output=True, text=True, check=False, env={"UV_PYTHON_DOWNLOADS": "never"}
    )


def _locked_versions() -> dict[str, str]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return {pkg["name"]: pkg["version"] for pkg in lock["package"] if "version" in pkg}


def test_uv_lock_is_in_step_with_pyproject() -> None:
    result = _uv("lock", "--check", "--offline")
    assert result.returncode == 0, f"uv.lock is out of date with pyproject.toml: run `make lock`\n{result.stderr}"


def test_requirements_txt_is_the_runtime_part_of_the_lock() -> None:
    result = _uv("export", "--frozen", "--no-dev", "--no-emit-project", "--format", "requirements-txt", "--quiet")
    assert result.returncode == 0, result.stderr
    # The first two lines are uv's header, which names the output file when there is one.
    assert (ROOT / "requirements.txt").read_text().split("\n", 2)[2] == result.stdout.split("\n", 2)[2], (
        "requirements.txt differs from uv.lock's runtime dependencies: run `make lock`"
    )


def test_every_requirement_is_pinned_with_hashes() -> None:
    for name in ("requirements.txt", "requirements-bootstrap.txt"):
        text = (ROOT / name).read_text()
        pins = re.findall(r"^([A-Za-z0-9_.\-\[\],]+)==\S+ \\$", text, flags=re.M)
        requirements = [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]
        assert len(pins) == len(requirements), f"{name}: every line must be pinned with == and hashes"
        assert text.count("--hash=sha256:") >= len(pins)


def test_bootstrap_uv_is_the_locked_uv() -> None:
    bootstrap = re.search(r"^uv==(\S+)", (ROOT / "requirements-bootstrap.txt").read_text(), flags=re.M)
    assert bootstrap is not None
    assert bootstrap.group(1) == _locked_versions()["uv"]


def test_lambda_asset_bundles_the_versions_the_tests_ran_with(lambda_build: Path) -> None:
    dists = (dist.name.removesuffix(".dist-info").rsplit("-", 1) for dist in lambda_build.glob("*.dist-info"))
    bundled = {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in dists}
    locked = _locked_versions()
    assert {"boto3", "botocore", "aws-lambda-powertools", "aws-xray-sdk", "pydantic-core"} <= set(bundled)
    assert {name: version for name, version in bundled.items() if locked.get(name) != version} == {}
