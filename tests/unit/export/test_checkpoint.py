"""A run id names one input version under one set of settings: only a genuine re-run resumes."""

from __future__ import annotations

from adsbridge.export.checkpoint import run_id


def test_run_id_changes_with_settings_but_not_with_their_key_order() -> None:
    base = run_id("b", "k", '"etag"', {"action": "CREATE", "upload_mode": "APPEND"})
    assert run_id("b", "k", '"etag"', {"upload_mode": "APPEND", "action": "CREATE"}) == base
    assert run_id("b", "k", '"etag"', {"action": "CREATE", "upload_mode": "DELETE"}) != base
    assert run_id("b", "k", '"other"', {"action": "CREATE", "upload_mode": "APPEND"}) != base
