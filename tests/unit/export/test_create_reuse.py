"""A CREATE job run again appends to the audience its first run recorded; one function decides for the CLI and
the state machine (``prepare`` with an ``AudienceRegistry``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from adsbridge.ads.audiences import AudiencesClient
from adsbridge.ads.errors import ApiError
from adsbridge.export.prepare import PrepareError, prepare
from adsbridge.export.registry import AudienceKey, LocalRegistry
from adsbridge.settings import parse_settings

PATH = "/amc/audiences/metadata"
SETTINGS = {"amc_instance_id": "amc1", "country_code": "US", "external_audience_id": "crm-vip",
            "audience_name": "VIP customers", "time_to_live": 604_800}  # fmt: skip


class FakeAmazon:
    """Terms accepted, one connection; refuses a second audience with an external id it has (as the emulator)."""

    def __init__(self) -> None:
        self.audiences: dict[int, dict[str, Any]] = {}
        self.creates = 0
        self.updates: list[tuple[int, dict[str, Any]]] = []

    def terms(self) -> dict[str, Any]:
        return {"hasAccepted": True}

    def connections(self) -> list[dict[str, Any]]:
        return [{"connectionId": "c1", "amcInstanceId": "amc1"}]

    def create_audience(self, body: dict[str, Any]) -> int:
        self.creates += 1
        external = body["metadata"]["externalAudienceId"]
        if any(a["metadata"]["externalAudienceId"] == external for a in self.audiences.values()):
            raise ApiError("POST", PATH, 400, f"An audience with externalAudienceId {external!r} already exists")
        audience_id = 361054992504331000 + len(self.audiences)
        self.audiences[audience_id] = {"description": body["description"], "metadata": dict(body["metadata"])}
        return audience_id

    def get_audience(self, audience_id: int) -> dict[str, Any]:
        if audience_id not in self.audiences:
            raise ApiError("GET", f"{PATH}/{audience_id}", 404, "not found")
        return self.audiences[audience_id]

    def update_audience(self, audience_id: int, body: dict[str, Any]) -> None:
        self.updates.append((audience_id, body))


def run(amazon: FakeAmazon, registry: LocalRegistry, **changes: Any) -> tuple[int, bool]:
    target = prepare(parse_settings({**SETTINGS, **changes}), cast(AudiencesClient, amazon), registry=registry)
    return target.audience_id, target.reused


@pytest.fixture
def registry(tmp_path: Path) -> LocalRegistry:
    return LocalRegistry(tmp_path / "audiences.json")


def test_the_second_run_reuses_the_first_run_s_audience_without_a_put(registry: LocalRegistry) -> None:
    amazon = FakeAmazon()
    first, reused = run(amazon, registry)
    assert not reused and registry.find(AudienceKey.of(parse_settings(SETTINGS))) == first  # recorded at once
    assert run(amazon, registry) == (first, True)
    assert (amazon.creates, amazon.updates) == (1, [])


def test_a_setting_changed_since_is_put_on_the_reused_audience(registry: LocalRegistry) -> None:
    amazon = FakeAmazon()
    first, _ = run(amazon, registry)
    assert run(amazon, registry, time_to_live=86_400) == (first, True)
    assert amazon.updates == [(first, {"metadata": {"ttl": 86_400}})]


def test_another_owner_or_external_id_creates_its_own(registry: LocalRegistry) -> None:
    amazon = FakeAmazon()
    first, _ = run(amazon, registry)
    assert run(amazon, registry, external_audience_id="crm-other")[0] != first
    amazon.audiences.clear()  # another AMC account is another owner (its audiences are its own)
    assert run(amazon, registry, amc_account_id="ENTITY2")[1] is False


def test_a_refused_external_id_with_no_record_says_run_update(registry: LocalRegistry) -> None:
    amazon = FakeAmazon()
    run(amazon, registry)
    elsewhere = LocalRegistry(registry.path.with_name("other.json"))  # e.g. another machine's CLI
    with pytest.raises(PrepareError) as caught:
        run(amazon, elsewhere)
    message = str(caught.value)
    assert message.startswith("external_audience_id: Amazon already has an audience with external id 'crm-vip'")
    assert '"action": "UPDATE", "audience_id": <that audience\'s id>' in message and str(elsewhere.path) in message


def test_a_refusal_because_a_racing_first_run_recorded_uses_its_audience(registry: LocalRegistry) -> None:
    amazon = FakeAmazon()
    racer = FakeAmazon()
    racer.audiences = amazon.audiences

    class Racing(LocalRegistry):
        def find(self, key: AudienceKey) -> int | None:  # the other run creates and records after our look-up
            found = super().find(key)
            if found is None and not amazon.audiences:
                run(racer, LocalRegistry(self.path))
            return found

    first, reused = run(amazon, Racing(registry.path))
    assert (first, reused) == (registry.find(AudienceKey.of(parse_settings(SETTINGS))), True)
    assert len(amazon.audiences) == 1


def test_a_recorded_audience_gone_names_the_record_to_delete(registry: LocalRegistry) -> None:
    amazon = FakeAmazon()
    first, _ = run(amazon, registry)
    amazon.audiences.clear()
    with pytest.raises(PrepareError, match=rf"audience {first}, recorded in {registry.path} .* delete that record"):
        run(amazon, registry)


def test_an_audience_created_but_not_recorded_is_named(registry: LocalRegistry) -> None:
    class Full(LocalRegistry):
        def record(self, key: AudienceKey, audience_id: int) -> int:
            raise OSError(28, "No space left on device")

    with pytest.raises(PrepareError, match=r"^audience 361054992504331000 was created but could not be recorded"):
        run(FakeAmazon(), Full(registry.path))
