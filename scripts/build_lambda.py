"""Fill ``.build/lambda`` with the adsbridge package and its runtime dependencies for AWS Lambda, without Docker.

pip downloads manylinux wheels for the Lambda platform (arm64, CPython 3.14) and installs them into the
folder; the package is copied beside them. boto3/botocore are left out (the Lambda runtime has them).
A stamp of the inputs' hash makes a second run with nothing changed a no-op.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = ROOT / ".build/lambda"
PACKAGE = ROOT / "functions/adsbridge"
PYTHON_VERSION = "3.14"
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
IN_RUNTIME = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six")


def _sources() -> list[Path]:
    files = [ROOT / "requirements.txt", Path(__file__)]
    files += sorted(p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return files


def _digest() -> str:
    h = hashlib.sha256()
    for path in _sources():
        h.update(str(path.relative_to(ROOT)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def build(target: Path = BUILD_DIR) -> Path:
    stamp = target / ".stamp"
    digest = _digest()
    if stamp.exists() and stamp.read_text() == digest:
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    requirements = [
        line.split("#")[0].strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip() and not line.strip().lower().startswith(IN_RUNTIME)
    ]
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
         "--only-binary=:all:", "--implementation", "cp", "--python-version", PYTHON_VERSION, *platforms,
         "--target", str(target), *requirements],
        check=True,
    )  # fmt: skip
    shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts are of no use in Lambda
    for skipped in IN_RUNTIME:  # pulled in transitively; the runtime's own copies win anyway
        for path in target.glob(f"{skipped.replace('-', '_')}*"):
            shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(PACKAGE, target / "adsbridge", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    stamp.write_text(digest)
    return target


if __name__ == "__main__":
    print(build())
