"""CDK tests run jsii on Node: prefer the supported Node that package.json installs."""

import os
from pathlib import Path

_NODE = Path(__file__).resolve().parents[2] / "node_modules/.bin/node"
if _NODE.exists():
    os.environ.setdefault("JSII_NODE", str(_NODE))
