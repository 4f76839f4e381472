"""Every Lambda entry point the templates name imports from its function's built asset alone, as Lambda would run it.

The assets are built for arm64/CPython 3.14, whose compiled wheels do not load here, so the test builds the same
pinned requirements for this machine (scripts/build_lambda.py, another platform) and imports each handler in
a clean interpreter (``-I -S``: no site-packages, no user environment) with only its function's asset (the main
one, without pyarrow, or the one with it) on its path and the function's environment variables as its template
sets them. boto3/botocore come from the asset too (bundled).
"""

from __future__ import annotations

import ast
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.infra.synthesized import REGION, built_asset, synthesized

from adsbridge.export.handlers import TASKS

ROOT = Path(__file__).resolve().parents[2]
# What the Lambda runtime sets beside the template's variables (those that matter at import).
RUNTIME_ENVIRONMENT = {"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "LANG": "en_US.UTF-8", "TZ": ":UTC"}
V2_CATALOG = "adsbridge.stream.handlers.v2_catalog.lambda_handler"
IMPORT = (
    "import importlib, sys; sys.path.insert(0, sys.argv[1]); getattr(importlib.import_module(sys.argv[2]), sys.argv[3])"
)


@pytest.fixture(scope="session")
def host_assets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Asset folder name → the same asset built for this machine."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from build_lambda import ASSETS, build

    target = tmp_path_factory.mktemp("lambda-host")
    machine = {
        "platform": f"{platform.machine()}-manylinux_2_28",
        "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
    }
    return {asset.folder: build(asset, target / asset.folder, **machine) for asset in ASSETS}


@dataclass(frozen=True)
class EntryPoint:
    """``code``: the function's code folder in the cloud assembly; ``environment``: what it runs with."""

    code: Path
    environment: dict[str, str]


def entry_points() -> dict[str, EntryPoint]:
    """Handler → entry point, for every function whose code is an adsbridge asset, in every stack."""
    app = synthesized()
    found: dict[str, EntryPoint] = {}
    for (stack, logical_id), function in app.resources("AWS::Lambda::Function").items():
        code = app.code(stack, function)
        if not (code / "adsbridge").is_dir():
            continue  # CDK's own provider framework
        properties: dict[str, Any] = function["Properties"]
        variables = properties.get("Environment", {}).get("Variables", {})
        environment = {name: str(app.resolve(stack, value)) for name, value in variables.items()}
        found[properties["Handler"]] = EntryPoint(
            code,
            {
                **RUNTIME_ENVIRONMENT,
                **environment,
                "AWS_LAMBDA_FUNCTION_NAME": logical_id,
                "_HANDLER": properties["Handler"],
            },
        )
    return found


def import_handler(asset: Path, handler: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    module, _, attribute = handler.rpartition(".")
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", IMPORT, str(asset), module, attribute],
        env=environment, cwd=asset, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_every_entry_point_imports_from_its_asset_alone(host_assets: dict[str, Path]) -> None:
    """Each handler from the host copy of the asset its function's code is: the main asset's handlers without pyarrow."""
    handlers = entry_points()
    assert {handler.split(".")[1] for handler in handlers} == {"export", "stream"}
    failures = {}
    for handler, entry in handlers.items():
        asset = built_asset(entry.code)
        assert asset is not None
        result = import_handler(host_assets[asset], handler, entry.environment)
        if result.returncode:
            failures[handler] = result.stderr.strip().splitlines()[-1]
    assert not failures


def test_an_asset_without_a_dependency_fails_the_import(host_assets: dict[str, Path], tmp_path: Path) -> None:
    """The check can fail: without aws_xray_sdk (once missing from requirements.txt) Powertools' Tracer cannot load."""
    for entry in host_assets["lambda"].iterdir():
        if not entry.name.startswith("aws_xray_sdk"):
            (tmp_path / entry.name).symlink_to(entry)
    result = import_handler(tmp_path, TASKS["Prepare"], entry_points()[TASKS["Prepare"]].environment)
    assert result.returncode and "No module named 'aws_xray_sdk'" in result.stderr


def test_the_catalog_handler_needs_the_pyarrow_asset(host_assets: dict[str, Path]) -> None:
    """Which asset a handler is imported from matters: from the main one, the v2 catalog cannot load."""
    result = import_handler(host_assets["lambda"], V2_CATALOG, entry_points()[V2_CATALOG].environment)
    assert result.returncode and "No module named 'pyarrow'" in result.stderr


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
