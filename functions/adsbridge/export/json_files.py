"""Documents in the state directory written whole or not at all (the audience registry, ``adsbridge export``'s
run state): a temporary file beside the target (mode 0600), fsynced, then renamed or linked into place, so a
process killed mid-write leaves the previous version or none, never half a document."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def replace(path: Path, text: str) -> None:
    """``path`` holds ``text``, whatever it held before."""
    temporary = _written(path, text)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def create(path: Path, text: str) -> bool:
    """``path`` holds ``text`` if it did not exist; False when it did (of two writers exactly one creates)."""
    temporary = _written(path, text)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True


def _written(path: Path, text: str) -> Path:
    """A temporary file beside ``path`` holding ``text``, on disk; removed if writing fails."""
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary
