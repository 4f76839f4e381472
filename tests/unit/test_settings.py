"""Every settings rule from TD's parameter table and docs/amc-audiences-api.md, each failing with the field's name."""

import json
from typing import Any

import pytest

from adsbridge.settings import MAX_TTL_SECONDS, Region, SettingsError, exact_ids, parse_settings

BASE: dict[str, Any] = {
    "type": "amazon_ads",
    "amc_instance_id": "amcabc123",
    "country_code": "US",
    "external_audience_id": "crm-high-value",
    "audience_name": "High value customers",
}


def settings(**changes: Any) -> dict[str, Any]:
    data = {**BASE, **changes}
    return {k: v for k, v in data.items() if v is not ...}


def problems(**changes: Any) -> list[str]:
    with pytest.raises(SettingsError) as info:
        parse_settings(settings(**changes))
    return info.value.problems


def test_td_example_settings_parse_with_defaults() -> None:
    s = parse_settings(settings(td_authentication_id=2881, dsp_region="NA"))
    assert s.region is Region.NA
    assert (s.action, s.upload_mode, s.target) == ("CREATE", "APPEND", "AMC")
    assert s.time_to_live == MAX_TTL_SECONDS
    assert s.wait_until_finish is False
    assert s.record_action == "CREATE"


def test_td_documented_workflow_example_parses() -> None:
    # the result_settings block of TD's workflow example, ids filled in
    s = parse_settings(
        {
            "type": "amazon_ads", "td_authentication_id": "td_authentication_id", "amc_instance_id": "amc1",
            "amc_account_id": "ENTITY1", "dsp_region": "NA", "action": "CREATE", "upload_mode": "APPEND",
            "target": "AMC_AND_DSP", "dsp_advertiser_id": "5820191230101", "external_audience_id": "ext",
            "audience_name": "audience_name", "time_to_live": 34300800, "country_code": "US",
            "wait_until_finish": True, "max_wait_time": 5,
        }
    )  # fmt: skip
    assert s.target == "AMC_AND_DSP" and s.max_wait_time == 5


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"amc_instance_id": ...}, "amc_instance_id: required"),
        ({"country_code": ...}, "country_code: required"),
        ({"type": "s3"}, "type:"),
        ({"region": "APAC"}, "region:"),
        ({"action": "UPSERT"}, "action:"),
        ({"upload_mode": "REPLACE"}, "upload_mode:"),
        ({"target": "DSP"}, "target:"),
        ({"target": "AMC_AND_DSP"}, "dsp_advertiser_id: required when target is AMC_AND_DSP"),
        ({"dsp_advertiser_id": "abc"}, "dsp_advertiser_id: must be the numeric DSP advertiser id"),
        ({"action": "UPDATE"}, "audience_id: required when action is UPDATE"),
        ({"action": "UPDATE", "audience_id": 1.5}, "audience_id: must be the numeric audience id"),
        ({"action": "UPDATE", "audience_id": "12x"}, "audience_id: must be the numeric audience id"),
        ({"external_audience_id": ...}, "external_audience_id: required when action is CREATE"),
        ({"external_audience_id": "  "}, "external_audience_id: required when action is CREATE"),
        ({"audience_name": ...}, "audience_name: required when action is CREATE"),
        ({"audience_name": "x" * 129}, "audience_name: must be 10-128 characters"),
        ({"audience_name": "VIP buyer"}, "audience_name: must be 10-128 characters"),  # Amazon's model: 10 or more
        ({"audience_description": "d" * 1001}, "audience_description:"),
        ({"time_to_live": -1}, "time_to_live:"),
        ({"time_to_live": MAX_TTL_SECONDS + 1}, "time_to_live:"),
        ({"time_to_live": "100"}, "time_to_live:"),
        ({"audience_fee": "USD150"}, "audience_fee: must be 'CURRENCY:cpmCents'"),
        ({"audience_fee": "USD:1.5"}, "audience_fee: must be 'CURRENCY:cpmCents'"),
        ({"audience_fee": "XYZ:100"}, "audience_fee: the currency must be one of AED AUD"),
        ({"audience_fee": "USD:-5"}, "audience_fee: must be 'CURRENCY:cpmCents'"),
        ({"audience_fee": "USD:\u0661\u0665\u0660"}, "audience_fee: must be 'CURRENCY:cpmCents'"),  # Arabic-Indic 150
        ({"audience_fee": "USD:\u00b2"}, "audience_fee: must be 'CURRENCY:cpmCents'"),  # a superscript 2
        ({"audience_fee": "USD:100001"}, "audience_fee: cpmCents must be at most 100000"),
        ({"audience_fee": "USD:" + "9" * 5000}, "audience_fee: cpmCents must be at most 100000"),
        ({"audience_fee": 150}, "audience_fee: must be a string 'CURRENCY:cpmCents'"),
        ({"audience_fee": 1.5}, "audience_fee: must be a string 'CURRENCY:cpmCents'"),
        ({"audience_fee": True}, "audience_fee: must be a string 'CURRENCY:cpmCents'"),
        ({"audience_fee": {"currency": "USD", "cpm_cents": 150}}, "audience_fee: must be a string 'CURRENCY:cpmCents'"),
        ({"country_code": "USA"}, "country_code: must be an ISO 3166-1 alpha-2 country code"),
        ({"country_code": "ZZ"}, "country_code: must be an ISO 3166-1 alpha-2 country code"),
        ({"wait_until_finish": True}, "max_wait_time: required (1-1380 minutes) when wait_until_finish is true"),
        ({"wait_until_finish": True, "max_wait_time": 0}, "max_wait_time:"),
        ({"wait_until_finish": True, "max_wait_time": 1381}, "max_wait_time:"),
        ({"wait_until_finish": "yes"}, "wait_until_finish:"),
        ({"upload_mode": "DELETE"}, "upload_mode: DELETE needs action UPDATE"),
        ({"region": "NA", "dsp_region": "EU"}, "region: 'region' and 'dsp_region' disagree"),
        ({"audiense_name": "typo"}, "audiense_name: unknown setting"),
    ],
)
def test_each_rule_names_its_field(changes: dict[str, Any], expected: str) -> None:
    found = problems(**changes)
    assert any(p.startswith(expected) for p in found), found


def test_several_problems_are_reported_together() -> None:
    found = problems(amc_instance_id=..., time_to_live=-5, audience_fee="XYZ:1")
    assert {p.split(":")[0] for p in found} == {"amc_instance_id", "time_to_live", "audience_fee"}


def test_values_are_normalised() -> None:
    s = parse_settings(
        settings(region="eu", country_code="uk", audience_fee="gbp:250", action="UPDATE", audience_id="361054992504331123",
                 upload_mode="DELETE", target="AMC_AND_DSP", dsp_advertiser_id=5820191230101)
    )  # fmt: skip
    assert s.region is Region.EU
    assert s.country_code == "GB"
    assert s.audience_fee is not None and s.audience_fee.to_api() == {"currency": "GBP", "cpmCents": 250}
    assert s.audience_id == 361054992504331123  # exact, not float-rounded
    assert s.dsp_advertiser_id == "5820191230101"
    assert s.record_action == "DELETE"


@pytest.mark.parametrize("ttl", [0, 1, MAX_TTL_SECONDS])
def test_ttl_bounds_are_inclusive(ttl: int) -> None:
    assert parse_settings(settings(time_to_live=ttl)).time_to_live == ttl


@pytest.mark.parametrize("minutes", [1, 1380])
def test_max_wait_bounds_are_inclusive(minutes: int) -> None:
    assert parse_settings(settings(wait_until_finish=True, max_wait_time=minutes)).max_wait_time == minutes


def test_error_never_echoes_values() -> None:
    secret_like = "jane.doe@example.com"
    found = problems(audience_name=secret_like * 10)
    assert all(secret_like not in p for p in found)
    found = problems(audience_fee=f"{secret_like}:150")
    assert found and all("jane" not in p.lower() for p in found)


@pytest.mark.parametrize(("text", "fee"), [("USD:0", 0), (" usd : 100000 ", 100_000), ("JPY:150", 150)])
def test_fee_bounds_are_inclusive(text: str, fee: int) -> None:
    parsed = parse_settings(settings(audience_fee=text)).audience_fee
    assert parsed is not None and parsed.cpm_cents == fee


def test_an_empty_fee_is_no_fee() -> None:
    assert parse_settings(settings(audience_fee=" ")).audience_fee is None


def test_non_object_settings_are_refused() -> None:
    with pytest.raises(SettingsError, match="must be a JSON object"):
        parse_settings(["not", "a", "dict"])


def test_every_id_setting_given_as_a_number_leaves_as_its_exact_digit_string() -> None:
    """Settings go into templates through CDK's JavaScript doubles, which round 1234567890123456789 to ...800."""
    numbers = {"audience_id": 361054992504331123, "dsp_advertiser_id": 4611686018427387903,
               "amc_account_id": 1234567890123456789, "td_authentication_id": 1234567890123456789}  # fmt: skip
    exact = exact_ids(settings(**numbers, action="UPDATE", target="AMC_AND_DSP"))
    assert {key: exact[key] for key in numbers} == {key: str(value) for key, value in numbers.items()}
    assert parse_settings(exact).audience_id == 361054992504331123


def test_the_wire_form_validates_back_to_equal_settings_and_survives_a_reader_of_doubles() -> None:
    """How settings travel (execution inputs, templates): a JavaScript reader keeps JSON numbers as doubles."""
    given = settings(action="UPDATE", audience_id=1234567890123456789, target="AMC_AND_DSP",
                     dsp_advertiser_id=4611686018427387903, amc_account_id="1234567890123456789",
                     td_authentication_id=9007199254740993, audience_fee=" usd:150", dsp_region="eu",
                     external_audience_id=...)  # fmt: skip
    model = parse_settings(given)
    text = json.dumps(model.wire())
    assert parse_settings(json.loads(text)) == model
    assert parse_settings(json.loads(text, parse_int=float)) == model  # no id is a JSON number
    assert json.loads(text)["audience_fee"] == "USD:150" and json.loads(text)["region"] == "EU"


def test_settings_written_canonically_travel_exactly_as_written() -> None:
    """``run_id`` hashes the wire form; today's execution inputs hashed the dict as written: the same JSON."""
    given = settings(action="UPDATE", audience_id="361054992504331123", upload_mode="DELETE",
                     external_audience_id=..., audience_name=..., audience_fee="USD:150")  # fmt: skip
    assert parse_settings(given).wire() == given
