import pytest

from adsbridge.export.consent import InvalidConsent, consent_block


def test_no_signal_gives_no_block() -> None:
    assert consent_block({"email": "x", "tcf": " ", "amznadstorage": ""}, "DE") is None


def test_amazon_signals_are_normalised_and_geo_is_added() -> None:
    block = consent_block({"amznadstorage": "granted", "amznuserdata": "No"}, "FR")
    assert block == {
        "geo": {"countryCode": "FR"},
        "consent": {"amzn": {"amznAdStorage": "GRANTED", "amznUserData": "DENIED"}},
    }


def test_tcf_and_gpp_strings_pass_through() -> None:
    block = consent_block(
        {"tcf": "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA", "gpp": "DBABMA~CPXxRfAPXxRfAAfKABENB"}, "GB"
    )
    assert block is not None
    assert set(block["consent"]) == {"tcf", "gpp"}
    assert block["geo"] == {"countryCode": "GB"}


def test_unknown_value_is_refused_naming_the_column_not_the_value() -> None:
    with pytest.raises(InvalidConsent) as info:
        consent_block({"amznuserdata": "maybe"}, "DE")
    assert str(info.value) == "amznuserdata"
