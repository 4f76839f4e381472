"""The capabilities of the runtime package depend on each other in one direction only.

identity (normalise + hash) knows nothing else; ads (Amazon's API) knows no capability that uses it; export
and stream use ads (and export uses identity) but never each other. A module that breaks this (as
``adsbridge hash`` did in identity/, reading export's input format) makes two capabilities one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "functions/adsbridge"
CAPABILITIES = ("ads", "export", "identity", "stream")
ALLOWED = {"identity": set(), "ads": set(), "export": {"ads", "identity"}, "stream": {"ads"}}


def imported_capabilities(path: Path) -> set[str]:
    """The capabilities (``adsbridge.<capability>``) a module imports, wherever in the module it does."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found |= {
            name.split(".")[1] for name in names if name.startswith("adsbridge.") and name.split(".")[1] in CAPABILITIES
        }
    return found


@pytest.mark.parametrize("capability", CAPABILITIES)
def test_a_capability_imports_only_the_ones_below_it(capability: str) -> None:
    wrong = {
        str(path.relative_to(PACKAGE)): sorted(imported_capabilities(path) - ALLOWED[capability] - {capability})
        for path in sorted((PACKAGE / capability).rglob("*.py"))
    }
    assert {module: names for module, names in wrong.items() if names} == {}


def test_the_scan_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from adsbridge.export import source\n    import adsbridge.stream.ingest\n")
    assert imported_capabilities(module) == {"export", "stream"}
