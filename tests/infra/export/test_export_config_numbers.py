"""A job's input reaches its rule and schedule through CDK's JavaScript: every number in it must survive a double."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from infra.export.config import ConfigError, parse_export_config

from adsbridge.export.trigger import job_input

ROOT = Path(__file__).resolve().parents[3]
SETTINGS = {**json.loads((ROOT / "samples/settings.json").read_text()), "action": "UPDATE",
            "audience_id": "361054992504331123", "external_audience_id": None, "audience_name": None}  # fmt: skip


def job(**changes: Any) -> dict[str, Any]:
    return {"jobs": [{"name": "crm", "settings": SETTINGS, "secret_name": "adsbridge/acct-1",
                      "trigger": {"prefix": "crm/"}, **changes}]}  # fmt: skip


def test_td_authentication_id_as_a_number_travels_as_its_digit_string() -> None:
    """TD's settings carry it as a number; ignored by adsbridge, it was still written rounded into the template."""
    settings = {**SETTINGS, "audience_id": 361054992504331123, "td_authentication_id": 1234567890123456789}
    [parsed] = parse_export_config(job(settings=settings)).jobs
    sent = job_input(parsed.spec())["settings"]
    assert (sent["audience_id"], sent["td_authentication_id"]) == ("361054992504331123", "1234567890123456789")


def test_a_number_a_javascript_double_would_round_is_refused_naming_the_field() -> None:
    with pytest.raises(ConfigError, match=r"job 'crm': chunk_bytes: at most 9007199254740991"):
        parse_export_config(job(chunk_bytes=2**53 + 1))


def test_the_largest_exact_number_is_kept() -> None:
    [parsed] = parse_export_config(job(chunk_bytes=2**53 - 1)).jobs
    assert job_input(parsed.spec())["chunk_bytes"] == 2**53 - 1
