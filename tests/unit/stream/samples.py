"""Amazon's documented AMS samples (tests/data/ams_samples, provenance in its README)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parents[2] / "data/ams_samples"


def text(name: str) -> str:
    return (SAMPLES / name).read_text()


def record(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text(name))
    return value
