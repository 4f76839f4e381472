"""A run id names one input version under one set of settings: only a genuine re-run resumes."""

from __future__ import annotations

from adsbridge.export.checkpoint import run_id
from adsbridge.settings import parse_settings


def test_run_id_changes_with_settings_but_not_with_their_key_order() -> None:
    base = run_id("b", "k", '"etag"', {"action": "CREATE", "upload_mode": "APPEND"})
    assert run_id("b", "k", '"etag"', {"upload_mode": "APPEND", "action": "CREATE"}) == base
    assert run_id("b", "k", '"etag"', {"action": "CREATE", "upload_mode": "DELETE"}) != base
    assert run_id("b", "k", '"other"', {"action": "CREATE", "upload_mode": "APPEND"}) != base


def test_a_run_id_from_the_settings_model_is_the_one_their_canonical_json_gave() -> None:
    """Executions used to hash the execution input's settings dict; the model's wire form of the same settings
    hashes the same, so a re-run after the change finds the checkpoints of a run before it."""
    written = {"amc_instance_id": "amc1", "action": "UPDATE", "audience_id": "361054992504331123",
               "country_code": "US", "audience_fee": "USD:150"}  # fmt: skip
    assert run_id("b", "k", '"e"', parse_settings(written).wire()) == run_id("b", "k", '"e"', written)
