"""Fill ``.build/lambda`` and ``.build/lambda-pyarrow`` with the adsbridge package and its runtime dependencies for
AWS Lambda, without Docker.

Two assets, because Lambda allows 250 MB unzipped per function (code and layers together) and pyarrow alone is
about 156 MB: the main asset, which every function but Stream v2's catalog runs, leaves out pyarrow (and whatever
only pyarrow needs); the pyarrow asset holds everything, for the one function that reads Parquet footers
(infra/constructs/function.py ``LambdaAsset``). Two complete assets rather than a pyarrow layer: each function's
unzipped size is then one folder's (tests/infra/test_lambda_assets.py bounds it), no stack needs a layer version
(layers are per region), and each handler's import test runs on exactly what its function gets.

uv installs the locked runtime dependencies (``requirements.txt``, exported from ``uv.lock`` with hashes, so the
very versions the tests ran with; entries are only left out, never resolved anew) as manylinux wheels for the
Lambda platform (arm64, CPython 3.14) into the folder; the package is copied beside them. boto3/botocore are
bundled too: the runtime's own copies are whatever AWS last shipped, not what was tested. A stamp of the inputs'
hash makes a second run with nothing changed a no-op.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements.txt"
PACKAGE = ROOT / "functions/adsbridge"
PYTHON_VERSION = "3.14"
PLATFORM = "aarch64-manylinux_2_28"  # pyarrow ships no manylinux2014 wheels; Lambda's Python 3.14 runtime (Amazon Linux 2023) has glibc 2.34
UV = Path(sys.executable).with_name("uv")


@dataclass(frozen=True)
class Asset:
    """``folder`` under ``.build``; ``without``: requirements left out, with whatever only they need."""

    folder: str
    without: frozenset[str] = frozenset()

    @property
    def path(self) -> Path:
        return ROOT / ".build" / self.folder


# Keep the folders in step with infra/constructs/function.py LambdaAsset (tests/infra/test_lambda_assets.py checks).
MAIN = Asset("lambda", without=frozenset({"pyarrow"}))
PYARROW = Asset("lambda-pyarrow")
ASSETS = (MAIN, PYARROW)


def _name(line: str) -> str:
    """The normalised project name of a requirement line such as ``pyarrow==26.0.1 \\``."""
    return re.sub(r"[-_.]+", "-", re.split(r"[=;\s\[]", line, maxsplit=1)[0]).lower()


def _entries(text: str) -> list[tuple[str, str, set[str]]]:
    """(name, the entry's text, the names its ``# via`` comment says need it) of each of uv's exported requirements,
    in order. A name can have several entries: uv splits a package by environment marker (``numpy==1.26 ;
    python_version < '3.12'`` and ``numpy==2.2 ; python_version >= '3.12'``), and each is kept."""
    entries = []
    for block in re.split(r"\n(?=\S)", text):
        if block.startswith("#"):
            continue  # uv's header
        comments = (
            line.strip().removeprefix("#").strip() for line in block.splitlines() if line.strip().startswith("#")
        )
        via = {_name(name) for comment in comments for name in comment.removeprefix("via").split()}
        entries.append((_name(block), block.rstrip("\n"), via))
    return entries


def requirements(without: frozenset[str]) -> str:
    """``requirements.txt`` without the ``without`` entries and every entry only they (transitively) need."""
    entries = _entries(REQUIREMENTS.read_text())
    needed_by: dict[str, set[str]] = {}
    for name, _, via in entries:
        needed_by.setdefault(name, set()).update(via)
    dropped = {_name(each) for each in without}
    unknown = dropped - needed_by.keys()
    if unknown:
        raise ValueError(f"not in requirements.txt: {sorted(unknown)}")
    while more := {name for name, via in needed_by.items() if name not in dropped and via and via <= dropped}:
        dropped |= more
    return "".join(text + "\n" for name, text, _ in entries if name not in dropped)


def _sources() -> list[Path]:
    files = [REQUIREMENTS, Path(__file__)]
    files += sorted(p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return files


def _digest(asset: Asset, platform: str, python_version: str) -> str:
    h = hashlib.sha256(f"{platform} {python_version} {sorted(asset.without)}".encode())
    for path in _sources():
        h.update(str(path.relative_to(ROOT)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def build(
    asset: Asset = MAIN,
    target: Path | None = None,
    *,
    platform: str = PLATFORM,
    python_version: str = PYTHON_VERSION,
) -> Path:
    """``asset`` in its folder by default; the same pinned contents elsewhere for another platform when asked (tests
    import the handlers from a copy built for the machine they run on, since the compiled dependencies are per
    platform).
    """
    target = target or asset.path
    stamp = target / ".stamp"
    digest = _digest(asset, platform, python_version)
    if stamp.exists() and stamp.read_text() == digest:
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as folder:
        pinned = Path(folder) / "requirements.txt"
        pinned.write_text(requirements(asset.without))
        subprocess.run(
            [str(UV), "pip", "install", "--quiet", "--no-config", "--require-hashes", "--no-deps",
             "--only-binary", ":all:", "--python-platform", platform, "--python-version", python_version,
             "--target", str(target), "-r", str(pinned)],
            check=True,
        )  # fmt: skip
    shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts are of no use in Lambda
    shutil.copytree(PACKAGE, target / "adsbridge", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    stamp.write_text(digest)
    return target


if __name__ == "__main__":
    for each in ASSETS:
        print(build(each))
