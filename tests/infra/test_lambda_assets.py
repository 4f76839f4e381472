"""Each function's code stays under Lambda's 250 MB unzipped, and only the function that reads Parquet carries pyarrow.

One asset with every runtime dependency was about 220 MB, pyarrow about 156 MB of it, for every function, most of
which never import pyarrow: the next dependency would have crossed the limit everywhere (scripts/build_lambda.py).
No function has a layer, so a function's unzipped size is its asset's.

Measured (sum of file sizes, 2026-12, pyarrow 26.0.1): main 64 MB, pyarrow 221 MB. The bounds leave room to grow
and fail before Lambda does: the main one's at about twice its size (a dependency as large as pyarrow belongs in
an asset of its own, not in every function's), the pyarrow one's 10 MB below the limit.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from infra.constructs.function import LambdaAsset
from tests.infra.synthesized import built_asset, synthesized

ROOT = Path(__file__).resolve().parents[2]
MB = 1_000_000
BOUNDS = {"lambda": 120 * MB, "lambda-pyarrow": 240 * MB}
V2_CATALOG = "adsbridge.stream.handlers.v2_catalog.lambda_handler"


def unzipped_size(folder: Path) -> int:
    """What the folder's zip unpacks to: every file's size (a zip keeps no hard links, so each counts in full)."""
    return sum(
        (Path(parent) / name).stat().st_size for parent, _, names in os.walk(folder) for name in names
    )  # fmt: skip


@pytest.mark.parametrize("folder", sorted(BOUNDS))
def test_each_asset_stays_under_its_bound(folder: str, lambda_builds: dict[str, Path]) -> None:
    assert unzipped_size(lambda_builds[folder]) <= BOUNDS[folder]


def test_the_size_is_measured_in_full(tmp_path: Path) -> None:
    """A hard link (uv installs from its cache that way) counts as much as a copy: Lambda unzips two files."""
    (tmp_path / "a").write_bytes(b"x" * 1000)
    (tmp_path / "b").hardlink_to(tmp_path / "a")
    assert unzipped_size(tmp_path) == 2000


def test_only_the_catalog_function_gets_the_pyarrow_asset() -> None:
    app = synthesized()
    assets: dict[str, set[str]] = {}
    for (stack, _), function in app.resources("AWS::Lambda::Function").items():
        asset = built_asset(app.code(stack, function))
        if asset is not None:
            assets.setdefault(asset, set()).add(function["Properties"]["Handler"])
    assert assets["lambda-pyarrow"] == {V2_CATALOG}
    assert V2_CATALOG not in assets["lambda"]
    assert len(assets["lambda"]) > 5  # the export's and the v1 stream's functions


def test_the_build_and_the_app_name_the_same_folders() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from build_lambda import ASSETS, MAIN, PYARROW

    assert (MAIN.path, PYARROW.path) == (LambdaAsset.MAIN.path, LambdaAsset.PYARROW.path)
    assert {asset.path for asset in ASSETS} == {asset.path for asset in LambdaAsset}


def test_an_asset_leaves_out_only_entries_and_what_only_they_need() -> None:
    """Filtered, never re-resolved: without pydantic, what only pydantic needs goes too, what Powertools needs too
    stays, and every kept entry is requirements.txt's own text, hashes and all."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from build_lambda import REQUIREMENTS, requirements

    locked = REQUIREMENTS.read_text()
    kept = requirements(frozenset({"pydantic"}))
    names = {line.split("==")[0] for line in kept.splitlines() if line and not line.startswith((" ", "#"))}
    assert not names & {"pydantic", "pydantic-core", "annotated-types", "typing-inspection"}
    assert {"typing-extensions", "aws-lambda-powertools", "boto3", "pyarrow"} <= names
    assert all(entry in locked for entry in kept.split("\n") if entry)
    assert "--hash=sha256:" in kept
    with pytest.raises(ValueError, match="nosuch"):
        requirements(frozenset({"nosuch"}))


def test_a_package_split_by_environment_marker_keeps_every_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uv exports one entry per marker when a package's version differs by environment: none may be lost."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import build_lambda

    locked = tmp_path / "requirements.txt"
    locked.write_text(
        "# uv export\n"
        "numpy==1.26.4 ; python_full_version < '3.12' \\\n    --hash=sha256:aa\n    # via pyarrow\n"
        "numpy==2.2.1 ; python_full_version >= '3.12' \\\n    --hash=sha256:bb\n    # via\n    #   pandas\n"
        "    #   pyarrow\n"
        "pandas==2.2.3 \\\n    --hash=sha256:cc\n"
        "pyarrow==26.0.1 \\\n    --hash=sha256:dd\n"
    )
    monkeypatch.setattr(build_lambda, "REQUIREMENTS", locked)
    kept = build_lambda.requirements(frozenset({"pyarrow"}))
    assert [line.split(" ")[0] for line in kept.splitlines() if line[:1].isalpha()] == [
        "numpy==1.26.4", "numpy==2.2.1", "pandas==2.2.3",
    ]  # fmt: skip
    assert build_lambda.requirements(frozenset({"pyarrow", "pandas"})).strip() == ""
