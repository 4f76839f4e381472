"""Every Lambda entry point the templates name imports from the built asset alone, as Lambda would run it.

The asset is built for arm64/CPython 3.14, whose compiled wheels do not load here, so the test builds the same
pinned requirements for this machine (scripts/build_lambda.py, another platform) and imports each handler in
a clean interpreter (``-I -S``: no site-packages, no user environment) with only the asset on its path and the
function's environment variables as its template sets them. boto3/botocore come from the asset too (bundled).
"""

from __future__ import annotations

import ast
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.infra.synthesized import REGION, synthesized

from adsbridge.export.handlers import TASKS

ROOT = Path(__file__).resolve().parents[2]
# What the Lambda runtime sets beside the template's variables (those that matter at import).
RUNTIME_ENVIRONMENT = {"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "LANG": "en_US.UTF-8", "TZ": ":UTC"}
IMPORT = (
    "import importlib, sys; sys.path.insert(0, sys.argv[1]); getattr(importlib.import_module(sys.argv[2]), sys.argv[3])"
)


@pytest.fixture(scope="session")
def host_asset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(ROOT / "scripts"))
    from build_lambda import build

    return build(
        tmp_path_factory.mktemp("lambda-host") / "asset",
        platform=f"{platform.machine()}-manylinux_2_28",
        python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
    )


def entry_points() -> dict[str, dict[str, str]]:
    """Handler → environment, for every function whose code is the adsbridge asset, in every stack."""
    app = synthesized()
    found: dict[str, dict[str, str]] = {}
    for (stack, logical_id), function in app.resources("AWS::Lambda::Function").items():
        properties: dict[str, Any] = function["Properties"]
        key = properties["Code"].get("S3Key", "")
        asset = app.templates[stack].parent / f"asset.{key.removesuffix('.zip')}"
        if not (asset / "adsbridge").is_dir():
            continue  # CDK's own provider framework
        variables = properties.get("Environment", {}).get("Variables", {})
        environment = {name: str(app.resolve(stack, value)) for name, value in variables.items()}
        found[properties["Handler"]] = {
            **RUNTIME_ENVIRONMENT,
            **environment,
            "AWS_LAMBDA_FUNCTION_NAME": logical_id,
            "_HANDLER": properties["Handler"],
        }
    return found


def import_handler(asset: Path, handler: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    module, _, attribute = handler.rpartition(".")
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", IMPORT, str(asset), module, attribute],
        env=environment, cwd=asset, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_every_entry_point_imports_from_the_asset_alone(host_asset: Path) -> None:
    handlers = entry_points()
    assert {handler.split(".")[1] for handler in handlers} == {"export", "stream"}
    failures = {}
    for handler, environment in handlers.items():
        result = import_handler(host_asset, handler, environment)
        if result.returncode:
            failures[handler] = result.stderr.strip().splitlines()[-1]
    assert not failures


def test_an_asset_without_a_dependency_fails_the_import(host_asset: Path, tmp_path: Path) -> None:
    """The check can fail: without aws_xray_sdk (once missing from requirements.txt) Powertools' Tracer cannot load."""
    for entry in host_asset.iterdir():
        if not entry.name.startswith("aws_xray_sdk"):
            (tmp_path / entry.name).symlink_to(entry)
    [(handler, environment)] = [(h, e) for h, e in entry_points().items() if h == TASKS["Prepare"]]
    result = import_handler(tmp_path, handler, environment)
    assert result.returncode and "No module named 'aws_xray_sdk'" in result.stderr


MAX_ENTRY_POINT_LINES = 40  # thin handlers: parse, one domain call, serialise (README, "Layout")


def test_every_entry_point_is_thin() -> None:
    """Each handler the templates name, decorators included, is at most 40 lines."""
    lengths = {}
    for handler in entry_points():
        module, _, name = handler.rpartition(".")
        source = ROOT / "functions" / (module.replace(".", "/") + ".py")
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name == name and node.end_lineno is not None:
                first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
                lengths[handler] = node.end_lineno - first + 1
    assert set(lengths) == set(entry_points()), "every entry point is a function defined in its module"
    assert {handler: lines for handler, lines in lengths.items() if lines > MAX_ENTRY_POINT_LINES} == {}
