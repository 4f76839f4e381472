"""UPDATE changes only the audience fields the job's settings give; defaults never overwrite the audience."""

from __future__ import annotations

from typing import Any, cast

import pytest

from adsbridge.ads.audiences import AudiencesClient
from adsbridge.export.prepare import prepare
from adsbridge.settings import parse_settings

AUDIENCE = 361054992504331123
WEEK = 604_800


class FakeAudiences:
    """Terms accepted, one connection, one audience created with a 7-day TTL, a description and a fee."""

    def __init__(self) -> None:
        self.audience: dict[str, Any] = {
            "description": "VIP customers",
            "metadata": {"ttl": WEEK, "audienceFees": [{"currency": "USD", "cpmCents": 150}]},
        }
        self.updates: list[dict[str, Any]] = []

    def terms(self) -> dict[str, Any]:
        return {"hasAccepted": True}

    def connections(self) -> list[dict[str, Any]]:
        return [{"connectionId": "c1", "amcInstanceId": "amc1"}]

    def get_audience(self, audience_id: int) -> dict[str, Any]:
        return self.audience

    def update_audience(self, audience_id: int, body: dict[str, Any]) -> None:
        self.updates.append(body)


def update(**given: Any) -> list[dict[str, Any]]:
    fake = FakeAudiences()
    settings = {"amc_instance_id": "amc1", "country_code": "US", "action": "UPDATE", "audience_id": AUDIENCE}
    prepare(parse_settings({**settings, **given}), cast(AudiencesClient, fake))
    return fake.updates


@pytest.mark.parametrize("upload_mode", ["APPEND", "DELETE"])
def test_update_without_audience_fields_leaves_the_audience_alone(upload_mode: str) -> None:
    assert update(upload_mode=upload_mode) == []


def test_update_puts_only_the_fields_given() -> None:
    assert update(time_to_live=86_400) == [{"metadata": {"ttl": 86_400}}]
    assert update(audience_description="") == [{"description": ""}]
    assert update(audience_fee="EUR:90") == [{"metadata": {"audienceFees": [{"currency": "EUR", "cpmCents": 90}]}}]


def test_update_with_the_audience_s_own_values_puts_nothing() -> None:
    assert update(time_to_live=WEEK, audience_description="VIP customers", audience_fee="USD:150") == []
