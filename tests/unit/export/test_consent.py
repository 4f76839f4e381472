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
        {
            "tcf": "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA",
            "gpp": "DBABMA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA",
        },
        "GB",
    )
    assert block is not None
    assert set(block["consent"]) == {"tcf", "gpp"}
    assert block["geo"] == {"countryCode": "GB"}


def test_unknown_value_is_refused_naming_the_column_not_the_value() -> None:
    with pytest.raises(InvalidConsent) as info:
        consent_block({"amznuserdata": "maybe"}, "DE")
    assert str(info.value) == "amznuserdata"


TCF = "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"  # IAB's example TC string (core segment only)


@pytest.mark.parametrize(
    "value",
    [
        TCF,
        TCF + ".IAAA",  # + disclosed vendors segment (type 1)
        TCF + ".QAAA.YAAAAAAAAAA",  # + allowed vendors (type 2) and publisher TC (type 3)
    ],
)
def test_well_formed_tcf_strings_are_sent(value: str) -> None:
    block = consent_block({"tcf": f" {value} "}, "DE")
    assert block is not None and block["consent"] == {"tcf": value}


@pytest.mark.parametrize(
    "value",
    [
        "DBABMA~" + TCF,  # GPP example 1: one section, EU TCF v2
        "DBACNYA~" + TCF + "~1YNN",  # example 2: ids 2 and 6 (single ids, the second an offset from the first)
        "DBACNY~" + TCF + "~1YNN",  # the same header as first published, without the last padding character
        "DBABjw~BPXuQIAPXuQIAAfKABENB-CgAAAAAAAAAAAAAAAA~1---",  # example 3: the range 5-6
    ],
)
def test_well_formed_gpp_strings_are_sent(value: str) -> None:
    block = consent_block({"gpp": value}, "GB")
    assert block is not None and block["consent"] == {"gpp": value}


@pytest.mark.parametrize(
    "value",
    [
        "no",
        "yes",
        "GRANTED",
        "jane.doe@example.com",
        "BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA",  # TCF v1: version 1
        TCF[:30],  # too short for the core's fixed fields
        TCF + "=",  # padding is not base64url
        TCF + ".",  # an empty segment
        TCF + ".AAAA",  # segment type 0
        TCF + ".gAAA",  # segment type 4
        "DBABMA~" + TCF,  # a GPP string in the tcf column
    ],
)
def test_malformed_tcf_is_refused(value: str) -> None:
    with pytest.raises(InvalidConsent) as info:
        consent_block({"tcf": value, "amznadstorage": "GRANTED"}, "DE")
    assert str(info.value) == "tcf"


@pytest.mark.parametrize(
    "value",
    [
        "no",
        "jane.doe@example.com",
        TCF,  # a TC string in the gpp column: type 2, not the GPP header's 3
        "DBABMA",  # a header with no section
        "DBABMA~",  # an empty section
        "DBACNYA~" + TCF,  # two ids, one section
        "DBABMA~" + TCF + "~1YNN",  # one id, two sections
        "DBABMA~1Y NN",  # a space is not URL-safe
        "DCABMA~" + TCF,  # version 2 of the header
        "DBA",  # too short for a section count
        "DBAB~" + TCF,  # one id announced, the bits end before it
    ],
)
def test_malformed_gpp_is_refused(value: str) -> None:
    with pytest.raises(InvalidConsent) as info:
        consent_block({"gpp": value}, "FR")
    assert str(info.value) == "gpp"


# IAB Tech Lab's iabtcf-es decoder tests: a TC string with publisher restrictions (issue 201), and one with
# disclosed-vendor and publisher-TC segments, both decoded there as valid TCF v2 strings
TCF_RESTRICTIONS = (
    "CO4VGswO4VGswAfZCBDEAzCsAP_AAH_AAAigGUNf_X9fb2vj-_599_t0eY1f9_63t-wzjheMs-8NyZ-X_J4Wv2MyvB34JqQKGRgkunLBAQdtH"
    "GncTQgBwIlViTLMY02MjzNKJrJEilsbe2dYGH9vn8XT_ZKZ70-_v__7v3___33_5Ayhr_6_r7e18f3_Pvv9ujzGr_v_W9v2GccLxln3huTPy"
    "_5PC1-xmV4O_BNSBQyMEl05YICDto407iaEAOBEqsSZZjGmxkeZpRNZIkUtjb2zrAw_t8_i6f7JTPen39___d-___--__ICgKAOAAcAA4AFAA"
    "jgB6AEYALcGACAW0AtoJAHAAOAAcACgARwA9ACMAFuFABALaAW0GgDgAHAAOABQAI4AegBGAC3DgAgFtALaEQBwADgAHAAoAEcAPQAjABbiQ"
    "AQC2gFtCoA4ABwADgAUACOAHoARgAtxYAIBbQC2hkAcAA4ABwAKABHAD0AIwAW40AEAtoBbQ6AOAAcAA4AFAAjgB6AEYALceACAW0AtohAHAA"
    "OAAcACgARwA9ACMAFuRABALaAW0SgDgAHAAOABQAI4AegBGAC3JgAgFtALaKQBwADgAHAAoAEcAPQAjABblQAQC2gFtA"
)
TCF_SEGMENTS = (
    "COrEAV4OrXx94ACABBENAHCIAD-AAAAAAACAAxAAAAgAIAwgAgAAAAEAgQAAAAAEAYQAQAAAACAAAABAAA.IBAgAAAgAIAwgAgAAAAEAAAACA"
    ".QAagAQAgAIAwgA"
)


@pytest.mark.parametrize("value", [TCF_RESTRICTIONS, TCF_SEGMENTS])
def test_real_tc_strings_with_vendor_sections_and_restrictions_are_sent(value: str) -> None:
    block = consent_block({"tcf": value}, "FR")
    assert block is not None and block["consent"] == {"tcf": value}


@pytest.mark.parametrize("length", [40, 60, 100, 200, 400, 600, 630])
def test_a_tc_string_cut_short_is_refused(length: int) -> None:
    """Cut anywhere after its fixed fields, a TC string ends inside a vendor section or the publisher
    restrictions, whose lengths its own counts give: it is no consent string any more."""
    with pytest.raises(InvalidConsent) as info:
        consent_block({"tcf": TCF_RESTRICTIONS[:length], "amznadstorage": "GRANTED"}, "DE")
    assert str(info.value) == "tcf"


@pytest.mark.parametrize("value", ["DBABMA~" + TCF_RESTRICTIONS[:300], "DBACNYA~" + TCF[:30] + "~1YNN"])
def test_a_gpp_string_whose_eu_tcf_section_is_cut_short_is_refused(value: str) -> None:
    """Section id 2 of a GPP string is an EU TCF v2 TC string, held to the tcf column's rule."""
    with pytest.raises(InvalidConsent) as info:
        consent_block({"gpp": value}, "FR")
    assert str(info.value) == "gpp"
