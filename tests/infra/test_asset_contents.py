"""The Lambda assets hold runtime code only: the dev tooling lives in ``adsbridge_sandbox`` and is never bundled.
And pyarrow only in the asset of the one function that reads Parquet (scripts/build_lambda.py).

Once the emulator, the demo, the local runners, DuckDB and ``unittest.mock`` were copied into every function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What a runtime module may never import: dev tooling, test and build tools, the CDK app.
DEV_ONLY = {"adsbridge_sandbox", "infra", "unittest", "duckdb", "moto", "pytest", "aws_cdk", "cdk_nag", "croniter",
            "jsonschema", "sqlglot", "cfnlint"}  # fmt: skip


def _imports(package: Path) -> dict[str, set[str]]:
    """{module file: top-level names it imports}, relative to the package's parent."""
    found: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(package.parent))] = names
    return found


@pytest.mark.parametrize("where", ["source", "lambda", "lambda-pyarrow"])
def test_runtime_code_imports_no_dev_tooling(where: str, lambda_builds: dict[str, Path]) -> None:
    package = (ROOT / "functions" if where == "source" else lambda_builds[where]) / "adsbridge"
    offending = {module: sorted(names & DEV_ONLY) for module, names in _imports(package).items() if names & DEV_ONLY}
    assert offending == {}


@pytest.mark.parametrize("folder", ["lambda", "lambda-pyarrow"])
def test_the_asset_holds_no_dev_tooling(folder: str, lambda_builds: dict[str, Path]) -> None:
    lambda_build = lambda_builds[folder]
    assert not (lambda_build / "adsbridge_sandbox").exists()
    bundled = {
        path.relative_to(lambda_build / "adsbridge").as_posix() for path in (lambda_build / "adsbridge").rglob("*")
    }
    source = {path.relative_to(ROOT / "functions/adsbridge").as_posix() for path in (ROOT / "functions/adsbridge").rglob("*")}  # fmt: skip
    assert bundled == {name for name in source if "__pycache__" not in name}


def test_only_the_pyarrow_asset_holds_pyarrow(lambda_builds: dict[str, Path]) -> None:
    """The main asset leaves pyarrow out; the other holds what the main one does, and pyarrow."""
    main, with_pyarrow = (
        {path.name for path in lambda_builds[name].iterdir()} for name in ("lambda", "lambda-pyarrow")
    )
    assert not any(name.startswith("pyarrow") for name in main)
    assert main < with_pyarrow
    assert {name.split("-")[0] for name in with_pyarrow - main} == {"pyarrow"}
