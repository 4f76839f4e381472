"""``stream.marketplaces``: Amazon's country codes derive the realms; an unknown code or a disagreeing realm list
fails synthesis naming the field."""

from pathlib import Path

import pytest
from infra.app import AppConfigError, add_stacks, build_app
from infra.stream.config import ConfigError, StreamConfig

from adsbridge import marketplaces
from adsbridge.regions import Region


@pytest.mark.parametrize(
    ("codes", "realms"),
    [
        (["DE", "US"], (Region.EU, Region.NA)),
        (["US", "DE", "FR", "CA"], (Region.NA, Region.EU)),
        (["JP", "AU", "SG"], (Region.FE,)),
        (["IN", "UK", "GB"], (Region.EU,)),
    ],
)
def test_marketplaces_derive_the_realms_in_first_need_order(codes: list[str], realms: tuple[Region, ...]) -> None:
    config = StreamConfig.parse({"marketplaces": codes})
    assert config.realms == realms and config.marketplaces == tuple(codes)


def test_realms_given_with_marketplaces_are_kept_when_they_agree() -> None:
    config = StreamConfig.parse({"marketplaces": ["DE", "US"], "realms": ["NA", "EU"]})
    assert config.realms == (Region.NA, Region.EU)  # the operator's order: the first is the subscriptions' default


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"marketplaces": ["DE", "XX"]}, r"marketplaces: unknown marketplace codes \['XX'\]"),
        ({"marketplaces": ["de"]}, r"marketplaces: unknown marketplace codes \['de'\]"),
        (
            {"marketplaces": ["DE", "US"], "realms": ["EU"]},
            r"realms \['EU'\] disagree with marketplaces .*\['EU', 'NA'\]",
        ),
        ({"marketplaces": ["DE"], "realms": ["EU", "FE"]}, r"realms \['EU', 'FE'\] disagree with marketplaces"),
        ({"marketplaces": "DE"}, r"marketplaces: Input should be a valid tuple"),
        ({"marketplaces": []}, r"realms: .*at least 1"),
    ],
)
def test_bad_marketplaces_name_the_field(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        StreamConfig.parse(raw)


def test_an_unknown_marketplace_fails_synthesis(tmp_path: Path) -> None:
    path = tmp_path / "adsbridge.json"
    path.write_text('{"stream": {"marketplaces": ["DE", "ZZ"]}}')
    with pytest.raises(AppConfigError, match=r"marketplaces: unknown marketplace codes \['ZZ'\]"):
        add_stacks(build_app(), path)


def test_every_realm_has_a_marketplace() -> None:
    assert set(marketplaces.REALM_OF.values()) == set(Region)
