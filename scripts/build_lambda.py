"""Fill ``.build/lambda`` with the adsbridge package and its runtime dependencies for AWS Lambda, without Docker.

uv installs the locked runtime dependencies (``requirements.txt``, exported from ``uv.lock`` with hashes, so the
very versions the tests ran with) as manylinux wheels for the Lambda platform (arm64, CPython 3.14) into the
folder; the package is copied beside them. boto3/botocore are bundled too: the runtime's own copies are
whatever AWS last shipped, not what was tested. A stamp of the inputs' hash makes a second run with nothing
changed a no-op.
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
PLATFORM = "aarch64-manylinux_2_28"  # pyarrow ships no manylinux2014 wheels; Lambda's Python 3.14 runtime (Amazon Linux 2023) has glibc 2.34
UV = Path(sys.executable).with_name("uv")


def _sources() -> list[Path]:
    files = [ROOT / "requirements.txt", Path(__file__)]
    files += sorted(p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return files


def _digest(platform: str, python_version: str) -> str:
    h = hashlib.sha256(f"{platform} {python_version}".encode())
    for path in _sources():
        h.update(str(path.relative_to(ROOT)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def build(target: Path = BUILD_DIR, *, platform: str = PLATFORM, python_version: str = PYTHON_VERSION) -> Path:
    """The Lambda asset by default; the same pinned contents for another platform when asked (tests import the
    handlers from a copy built for the machine they run on, since the compiled dependencies are per platform).
    """
    stamp = target / ".stamp"
    digest = _digest(platform, python_version)
    if stamp.exists() and stamp.read_text() == digest:
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    subprocess.run(
        [str(UV), "pip", "install", "--quiet", "--no-config", "--require-hashes", "--no-deps",
         "--only-binary", ":all:", "--python-platform", platform, "--python-version", python_version,
         "--target", str(target), "-r", str(ROOT / "requirements.txt")],
        check=True,
    )  # fmt: skip
    shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts are of no use in Lambda
    shutil.copytree(PACKAGE, target / "adsbridge", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    stamp.write_text(digest)
    return target


if __name__ == "__main__":
    print(build())
