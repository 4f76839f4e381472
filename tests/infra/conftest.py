"""CDK tests run jsii on Node and synthesise functions from the Docker-free Lambda build."""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_NODE = ROOT / "node_modules/.bin/node"
if _NODE.exists():
    os.environ.setdefault("JSII_NODE", str(_NODE))


@pytest.fixture(scope="session", autouse=True)
def lambda_builds() -> dict[str, Path]:
    """Build every asset once (a no-op when its inputs have not changed): folder name → path."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from build_lambda import ASSETS, build

    return {asset.folder: build(asset) for asset in ASSETS}


@pytest.fixture(scope="session")
def lambda_build(lambda_builds: dict[str, Path]) -> Path:
    """The main asset, which every function but the pyarrow one runs."""
    return lambda_builds["lambda"]
