"""Every amazon_doc, amazon_reference and passthrough vector from our research must hold.

``data/hash_vectors.json`` is our committed copy of the research vectors (docs/hashing.md#test-vectors); the
``segment`` vectors encode Segment's simplified convention and are deliberately not targeted.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from adsbridge.identity import hash_pii, normalize

VECTORS_FILE = Path(__file__).parent / "data" / "hash_vectors.json"
SHARED_COPY = Path(__file__).parents[3].parent / "shared" / "reference" / "hash_vectors.json"
TARGETED = {"amazon_doc", "amazon_reference", "passthrough"}

ALL: list[dict[str, Any]] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
VECTORS = [vector for vector in ALL if vector["convention"] in TARGETED]


def _id(vector: dict[str, Any]) -> str:
    return f"{vector['convention']}-{vector['country']}-{vector['field']}-{vector['input']}"


def test_vector_file_is_complete() -> None:
    assert len(ALL) == 189
    assert len(VECTORS) == 174
    assert {vector["field"] for vector in VECTORS} == {
        "email",
        "phone",
        "firstname",
        "lastname",
        "address",
        "city",
        "state",
        "postal",
    }


@pytest.mark.skipif(not SHARED_COPY.is_file(), reason="shared/ research directory not beside the repo")
def test_committed_copy_matches_shared_research() -> None:
    assert json.loads(SHARED_COPY.read_text(encoding="utf-8")) == ALL


@pytest.mark.parametrize("vector", VECTORS, ids=_id)
def test_vector(vector: dict[str, Any]) -> None:
    field, value, country = vector["field"], vector["input"], vector["country"]
    assert hash_pii({field: value}, country) == {field: vector["sha256"]}
    if vector["convention"] == "passthrough":
        assert normalize(field, value, country) == vector["sha256"]
    else:
        assert normalize(field, value, country) == vector["normalized"]
        assert hashlib.sha256(vector["normalized"].encode()).hexdigest() == vector["sha256"]
