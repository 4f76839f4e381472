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
def lambda_build() -> Path:
    """Build ``.build/lambda`` once (a no-op when its inputs have not changed)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from build_lambda import build

    return build()
