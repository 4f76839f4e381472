"""Record uploads, job status, per-record invalid reporting and the membership ledger."""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest
import requests

from adsbridge_sandbox.emulator import Emulator
from adsbridge_sandbox.emulator.model import resolves
from adsbridge_sandbox.emulator.validation import RecordInput, validate_records

if TYPE_CHECKING:
    from conftest import Api

PATH = "/amc/audiences/records"


def _job_id(response: requests.Response) -> str:
    assert response.status_code == 202, response.text
    job_id: str = response.json()["jobRequestId"]
    return job_id


def _wait_terminal(api: Api, job_id: str, timeout: float = 2.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status = api.job(job_id)
        if status["jobState"] != "PENDING" or time.monotonic() > deadline:
            return status
        time.sleep(0.01)


# ------------------------------------------------------------------------------------------- audienceId


def test_audience_id_as_json_string_is_400_long_conversion(api: Api) -> None:
    audience_id = api.create_audience()
    response = api.call("POST", PATH, {"audienceId": str(audience_id), "records": [api.record()]})
    assert response.status_code == 400
    assert response.json() == {"message": "STRING_VALUE can not be converted to a Long"}


@pytest.mark.parametrize("kind", ["float", "bool", "missing", "null"])
def test_audience_id_must_be_json_integer(api: Api, kind: str) -> None:
    audience_id = api.create_audience()
    body: dict[str, Any] = {"records": [api.record()]}
    if kind == "float":
        body["audienceId"] = float(audience_id)
    elif kind == "bool":
        body["audienceId"] = True
    elif kind == "null":
        body["audienceId"] = None
    assert api.call("POST", PATH, body).status_code == 400


def test_float_serialised_big_id_is_rejected(api: Api) -> None:
    audience_id = api.create_audience()
    raw = json.dumps({"audienceId": 1, "records": [api.record()]}).replace("1", f"{float(audience_id)!r}", 1)
    assert api.call("POST", PATH, raw=raw.encode()).status_code == 400


def test_unknown_audience_is_404(api: Api) -> None:
    api.create_audience()
    assert api.post_records(123456789012345679, [api.record()]).status_code == 404


def test_exact_big_id_is_accepted(api: Api) -> None:
    audience_id = api.create_audience()
    assert audience_id > 2**53
    assert api.post_records(audience_id, [api.record()]).status_code == 202


# ------------------------------------------------------------------------------------------- limits


def test_records_limit_is_enforced_and_named(api_for: Callable[[Emulator], Api]) -> None:
    with Emulator(max_records_per_request=3) as emu:
        emu.accept_terms()
        api = api_for(emu)
        audience_id = api.create_audience()
        records = [api.record(f"u{i}") for i in range(4)]
        response = api.post_records(audience_id, records)
        assert response.status_code == 400
        assert "limit is 3" in response.json()["message"]
        assert api.post_records(audience_id, records[:3]).status_code == 202


def test_default_limit_is_the_models_10000(api: Api) -> None:
    audience_id = api.create_audience()
    records = [api.record(f"u{i}", email=api.sha(str(i))) for i in range(10_001)]
    too_many = api.post_records(audience_id, records)
    assert too_many.status_code == 400
    assert "10000" in too_many.json()["message"]
    assert api.post_records(audience_id, records[:10_000]).status_code == 202


# ------------------------------------------------------------------------------------------- structure → 400

STRUCTURAL: dict[str, Any] = {
    "records-empty": [],
    "records-not-list": {"externalUserId": "u1"},
    "record-not-object": ["u1"],
    "external-id-missing": [{"action": "CREATE", "hashedPII": [{"email": "0" * 64}]}],
    "external-id-int": [{"externalUserId": 7, "action": "CREATE", "hashedPII": [{"email": "0" * 64}]}],
    "action-missing": [{"externalUserId": "u1", "hashedPII": [{"email": "0" * 64}]}],
    "action-lowercase": [{"externalUserId": "u1", "action": "create", "hashedPII": [{"email": "0" * 64}]}],
    "action-add": [{"externalUserId": "u1", "action": "ADD", "hashedPII": [{"email": "0" * 64}]}],
    "pii-missing": [{"externalUserId": "u1", "action": "CREATE"}],
    "pii-empty": [{"externalUserId": "u1", "action": "CREATE", "hashedPII": []}],
    "pii-object": [{"externalUserId": "u1", "action": "CREATE", "hashedPII": {"email": "0" * 64}}],
    "pii-of-strings": [{"externalUserId": "u1", "action": "CREATE", "hashedPII": ["0" * 64]}],
    "country-int": [{"externalUserId": "u1", "action": "CREATE", "countryCode": 1, "hashedPII": [{"email": "0" * 64}]}],
    "record-unknown-key": [
        {"externalUserId": "u1", "action": "CREATE", "hashedPII": [{"email": "0" * 64}], "externalId": "u1"}
    ],
    "measurements-list": [
        {"externalUserId": "u1", "action": "CREATE", "hashedPII": [{"email": "0" * 64}], "measurements": []}
    ],
}


@pytest.mark.parametrize("records", STRUCTURAL.values(), ids=STRUCTURAL.keys())
def test_structural_problems_reject_the_whole_request(api: Api, records: Any) -> None:
    audience_id = api.create_audience()
    if isinstance(records, list) and records:
        records = [api.record("ok"), *records]  # one good record does not save a malformed request
    response = api.call("POST", PATH, {"audienceId": audience_id, "records": records})
    assert response.status_code == 400, response.text
    assert response.json()["message"]


@pytest.mark.parametrize(
    "extra",
    [
        {"targetResource": {"connectionId": "", "targetTypes": ["AMC"]}},
        {"targetResource": {"connectionId": "", "targetTypes": ["DSP", "DSP"]}},  # the model: at most 1 item
        {"targetResource": "x"},
        {"target": {}},
        {"records2": []},
    ],
    ids=["target-type-amc", "target-types-2", "target-not-object", "unknown-top-level", "unknown-top-level-2"],
)
def test_top_level_problems_are_400(api: Api, extra: dict[str, Any]) -> None:
    audience_id = api.create_audience()
    assert api.post_records(audience_id, [api.record()], **extra).status_code == 400


# ------------------------------------------------------------------------------------------- per-record content

GOOD_HASH = "0" + "a" * 63


def _rec(external_id: str, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"externalUserId": external_id, "action": "CREATE", "hashedPII": [{"email": GOOD_HASH}]}
    base.update(overrides)
    return base


PER_RECORD: dict[str, tuple[dict[str, Any], str]] = {
    "external-id-space": (_rec("has space"), "externalUserId"),
    "external-id-email": (_rec("alice@example.com"), "externalUserId"),
    "external-id-129": (_rec("x" * 129), "externalUserId"),
    "external-id-empty": (_rec(""), "externalUserId"),
    "pii-key-camel": (_rec("k1", hashedPII=[{"firstName": GOOD_HASH}]), "hashedPII key"),
    "pii-key-postalcode": (_rec("k2", hashedPII=[{"postalCode": GOOD_HASH}]), "hashedPII key"),
    "hash-uppercase": (_rec("h1", hashedPII=[{"email": GOOD_HASH.upper()}]), "SHA-256"),
    "hash-63": (_rec("h2", hashedPII=[{"email": GOOD_HASH[:63]}]), "SHA-256"),
    "hash-raw-email": (_rec("h3", hashedPII=[{"email": "alice@example.com"}]), "SHA-256"),
    "hash-not-string": (_rec("h4", hashedPII=[{"phone": 15551234567}]), "SHA-256"),
    "no-values": (_rec("n1", hashedPII=[{}]), "no values"),
    "too-many-values": (_rec("m1", hashedPII=[{"email": GOOD_HASH}] * 101), "limit is 100"),
    "country-unknown-code": (_rec("c1", countryCode="XX"), "countryCode"),
    "country-uk": (_rec("c2", countryCode="UK"), "countryCode"),
    "country-outside-pii-markets": (_rec("c3", countryCode="CH"), "countryCode"),  # fine for an audience, not here
    "consent-enum": (
        _rec("s1", userConsent={"consent": {"amzn": {"amznAdStorage": "YES", "amznUserData": "GRANTED"}}}),
        "userConsent",
    ),
    "consent-geo": (_rec("s2", userConsent={"geo": {"countryCode": "germany"}}), "userConsent"),
    "consent-tcf-int": (_rec("s3", userConsent={"consent": {"tcf": 1}}), "userConsent"),
    "consent-not-object": (_rec("s4", userConsent="GRANTED"), "userConsent"),
    "consent-unknown-key": (_rec("s5", userConsent={"gdpr": True}), "userConsent"),
}


@pytest.mark.parametrize(("bad", "reason"), PER_RECORD.values(), ids=PER_RECORD.keys())
def test_bad_record_content_is_reported_in_invalid_records(api: Api, bad: dict[str, Any], reason: str) -> None:
    audience_id = api.create_audience()
    good = _rec("good_1")
    job_id = _job_id(api.post_records(audience_id, [good, bad]))
    status = _wait_terminal(api, job_id)
    assert status["jobState"] == "SUCCEEDED"
    assert status["successful"]["recordsProcessedRate"] == 50.0
    assert status["audienceSize"]["receivedRecordSize"] == 2
    (invalid,) = status["invalidRecords"]
    assert invalid["externalId"] == bad["externalUserId"]
    assert reason in invalid["error"]
    assert GOOD_HASH not in json.dumps(status) and GOOD_HASH.upper() not in json.dumps(status)
    assert api.emu.audience_members(audience_id) == {"good_1"}


def test_valid_consent_and_all_pii_keys_are_accepted(api: Api) -> None:
    audience_id = api.create_audience()
    pii = {key: api.sha(key) for key in ("email", "phone", "firstname", "lastname", "address", "city", "state")}
    record = _rec(
        "full-record_1",
        countryCode="DE",
        hashedPII=[pii, {"postal": api.sha("10115")}],
        measurements={"anything": 1},
        userConsent={
            "geo": {"countryCode": "DE", "ipAddress": "192.0.2.1"},
            "consent": {"amzn": {"amznAdStorage": "GRANTED", "amznUserData": "DENIED"}, "tcf": "CP", "gpp": "DB"},
        },
    )
    status = _wait_terminal(api, _job_id(api.post_records(audience_id, [record])))
    assert status["invalidRecords"] == []
    assert status["successful"]["recordsProcessedRate"] == 100.0


def test_job_with_no_valid_record_fails(api: Api) -> None:
    audience_id = api.create_audience()
    status = _wait_terminal(api, _job_id(api.post_records(audience_id, [_rec("bad id")])))
    assert status["jobState"] == "FAILED"
    assert status["successful"]["recordsProcessedRate"] == 0.0
    assert api.emu.audience_members(audience_id) == frozenset()


# ------------------------------------------------------------------------------------------- jobs and ledger


def test_unknown_job_is_404(api: Api) -> None:
    response = api.call("GET", f"{PATH}/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.json() == {"message": "The requested job was not found."}


def test_job_is_pending_until_pending_seconds_then_succeeds(api_for: Callable[[Emulator], Api]) -> None:
    with Emulator(pending_seconds=0.5) as emu:
        emu.accept_terms()
        api = api_for(emu)
        audience_id = api.create_audience()
        posted = time.monotonic()
        job_id = _job_id(api.post_records(audience_id, [_rec("u1")]))
        assert api.job(job_id) == {"jobRequestId": job_id, "jobState": "PENDING"}
        assert emu.audience_members(audience_id) == frozenset()
        status = _wait_terminal(api, job_id)
        assert time.monotonic() - posted >= 0.5
        assert status["jobState"] == "SUCCEEDED"
        assert set(status) == {"jobRequestId", "jobState", "successful", "audienceSize", "invalidRecords"}
        assert emu.audience_members(audience_id) == {"u1"}


def test_jobs_apply_without_polling(api: Api) -> None:
    audience_id = api.create_audience()
    _job_id(api.post_records(audience_id, [_rec("u1"), _rec("u2")]))
    time.sleep(0.06)
    assert api.emu.audience_members(audience_id) == {"u1", "u2"}
    size = api.call("GET", f"/amc/audiences/metadata/{audience_id}").json()["metadata"]["audienceSize"]
    assert size["receivedRecordSize"] == 2


def test_create_then_delete_leaves_ledger_empty(api: Api) -> None:
    audience_id = api.create_audience()
    records = [api.record("u1"), api.record("u2")]
    _wait_terminal(api, _job_id(api.post_records(audience_id, records)))
    assert api.emu.audience_members(audience_id) == {"u1", "u2"}
    deletes = [{**r, "action": "DELETE"} for r in records]
    status = _wait_terminal(api, _job_id(api.post_records(audience_id, deletes)))
    assert status["jobState"] == "SUCCEEDED"
    assert api.emu.audience_members(audience_id) == frozenset()
    size = api.emu.audience(audience_id)["metadata"]["audienceSize"]
    assert size == {"receivedRecordSize": 4, "idResolutionCount": 0, "dspAudienceSize": 0}


def test_records_apply_in_post_order_exactly_once(api: Api) -> None:
    audience_id = api.create_audience()
    within = [_rec("a"), _rec("a", action="DELETE"), _rec("b", action="DELETE"), _rec("b")]
    first = _job_id(api.post_records(audience_id, within))
    second = _job_id(api.post_records(audience_id, [_rec("c")]))
    third = _job_id(api.post_records(audience_id, [_rec("c", action="DELETE")]))
    for job_id in (first, second, third, first, third):
        _wait_terminal(api, job_id)
    assert api.emu.audience_members(audience_id) == {"b"}
    assert api.emu.audience(audience_id)["metadata"]["audienceSize"]["receivedRecordSize"] == 6


def test_concurrent_uploads_all_apply(api: Api) -> None:
    audience_id = api.create_audience()

    def upload(batch: int) -> int:
        records = [_rec(f"b{batch}_u{i}") for i in range(50)]
        return api.post_records(audience_id, records).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(upload, range(16))) == [202] * 16
    time.sleep(0.06)
    members = api.emu.audience_members(audience_id)
    assert len(members) == 16 * 50
    assert api.emu.audience(audience_id)["metadata"]["audienceSize"]["receivedRecordSize"] == 800


def _other_pii_hash(**pii: str) -> str:
    """The documented hash the match rule takes over the non-email, non-phone PII of a record."""
    return hashlib.sha256("\n".join(sorted(f"{k}={v}" for k, v in pii.items())).encode()).hexdigest()


def _other_pii(api: Api, prefix: str) -> dict[str, str]:
    """Three other-PII fields whose combined hash starts with ``prefix``."""
    n = 0
    while True:
        pii = {"firstname": api.sha(f"f{n}"), "lastname": api.sha(f"l{n}"), "postal": api.sha(f"p{n}")}
        if _other_pii_hash(**pii).startswith(prefix):
            return pii
        n += 1


def test_pseudo_match_rule(api: Api) -> None:
    # Default rate 0.75: an identifier hash below 0xc0000000 (first hex digit 0-b) resolves.
    audience_id = api.create_audience()
    low, high = api.hash_starting("0"), api.hash_starting("c")
    records = [
        _rec("email_low", hashedPII=[{"email": low}]),  # resolves: email hash starts below 'c'
        _rec("email_high_phone_low", hashedPII=[{"email": high}, {"phone": low}]),  # email decides: no
        _rec("phone_low", hashedPII=[{"phone": low, "firstname": high}]),  # no email: phone decides, resolves
        _rec("email_high", hashedPII=[{"email": high, "firstname": low}]),  # does not resolve
        _rec("names_low", hashedPII=[_other_pii(api, "1")]),  # no email/phone: hash of the rest, resolves
        _rec("names_high", hashedPII=[_other_pii(api, "d")]),  # does not resolve
    ]
    status = _wait_terminal(api, _job_id(api.post_records(audience_id, records)))
    # advertiserId audiences always go to DSP
    assert status["audienceSize"] == {"receivedRecordSize": 6, "idResolutionCount": 3, "dspAudienceSize": 3}
    size = api.emu.audience(audience_id)["metadata"]["audienceSize"]
    assert size == {"receivedRecordSize": 6, "idResolutionCount": 3, "dspAudienceSize": 3}


def _random_records(seed: int, count: int) -> list[dict[str, Any]]:
    """Customer-like rows: names and address everywhere, email for most, phone for some."""
    rng = random.Random(seed)

    def h() -> str:
        return f"{rng.getrandbits(256):064x}"

    records = []
    for i in range(count):
        pii = {"firstname": h(), "lastname": h(), "address": h(), "city": h(), "postal": h()}
        kind = rng.random()
        if kind < 0.6:
            pii["email"] = h()
        elif kind < 0.8:
            pii["phone"] = h()
        records.append(_rec(f"u{i}", hashedPII=[pii]))
    return records


@pytest.mark.parametrize(("rate", "tolerance"), [(0.0, 0.0), (0.5, 0.04), (1.0, 0.0)])
def test_match_rate_sets_the_resolved_share(api_for: Callable[[Emulator], Api], rate: float, tolerance: float) -> None:
    records = _random_records(seed=7, count=2000)
    resolved = []
    for seed in (0, 1):  # a different emulator seed changes ids, never who resolves
        with Emulator(pending_seconds=0.01, match_rate=rate, seed=seed) as emu:
            emu.accept_terms()
            api = api_for(emu)
            audience_id = api.create_audience()
            status = _wait_terminal(api, _job_id(api.post_records(audience_id, records)))
            resolved.append(status["audienceSize"]["idResolutionCount"])
            assert emu.audience(audience_id)["metadata"]["audienceSize"]["idResolutionCount"] == resolved[-1]
    assert resolved[0] == resolved[1]
    assert abs(resolved[0] / len(records) - rate) <= tolerance


def test_resolution_is_a_stable_function_of_the_person() -> None:
    parsed = [_parsed(r) for r in _random_records(seed=11, count=500)]
    at_half = {r.external_id for r in parsed if resolves(r, 0.5)}
    assert at_half == {r.external_id for r in parsed if resolves(r, 0.5)}
    assert at_half < {r.external_id for r in parsed if resolves(r, 0.75)}  # lower rate: a subset
    for record in parsed:  # DELETE of the same person, PII listed in another order: same answer
        reordered = dict(reversed(list(record.pii.items())))
        again = RecordInput(record.external_id, "DELETE", reordered)
        assert resolves(again, 0.5) == resolves(record, 0.5)


def _parsed(record: dict[str, Any]) -> RecordInput:
    return validate_records({"audienceId": 1, "records": [record]}, 10).records[0]


@pytest.mark.parametrize("rate", [-0.1, 1.5, float("nan"), True])
def test_match_rate_out_of_range_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="match_rate"):
        Emulator(match_rate=rate)


# ------------------------------------------------------------------------------------------- target resource


def _connection(api: Api, **body: Any) -> str:
    response = api.call("POST", "/amc/audiences/connections", body)
    assert response.status_code == 201, response.text
    connection_id: str = response.json()["connectionId"]
    return connection_id


def test_dsp_target_needs_dsp_connection(api: Api) -> None:
    amc_only = _connection(api, amcInstanceId="amc1")
    audience_id = api.create_audience(targetResource={"connectionId": amc_only})
    low = api.hash_starting("1")
    record = _rec("u1", hashedPII=[{"email": low}])
    refused = api.post_records(audience_id, [record], targetResource={"connectionId": amc_only, "targetTypes": ["DSP"]})
    assert refused.status_code == 400
    amc_only_job = _job_id(api.post_records(audience_id, [record], targetResource={"connectionId": amc_only}))
    assert _wait_terminal(api, amc_only_job)["audienceSize"]["dspAudienceSize"] == 0

    with_dsp = _connection(api, amcInstanceId="amc1", dspAdvertiserId="5730214018309201")
    target = {"connectionId": with_dsp, "targetTypes": ["DSP"]}
    status = _wait_terminal(api, _job_id(api.post_records(audience_id, [record], targetResource=target)))
    assert status["audienceSize"]["dspAudienceSize"] == 1


def test_default_connection_is_used_for_a_blank_connection_id(api: Api) -> None:
    _connection(api, amcInstanceId="amc1", dspAdvertiserId="57302", isDefault=True)
    audience_id = api.create_audience()
    target = {"connectionId": "", "targetTypes": ["DSP"]}
    assert api.post_records(audience_id, [_rec("u1")], targetResource=target).status_code == 202


def test_target_resource_without_connection_id_is_400(api: Api) -> None:
    """The model requires targetResource.connectionId whenever targetResource is sent."""
    _connection(api, amcInstanceId="amc1", dspAdvertiserId="57302", isDefault=True)
    audience_id = api.create_audience()
    response = api.post_records(audience_id, [_rec("u1")], targetResource={"targetTypes": ["DSP"]})
    assert response.status_code == 400
    assert "targetResource.connectionId is required" in response.json()["message"]


def test_dsp_target_without_any_connection_on_connection_audience_is_400(api: Api) -> None:
    connection = _connection(api, amcInstanceId="amc1")
    audience_id = api.create_audience(targetResource={"connectionId": connection})
    target = {"connectionId": "", "targetTypes": ["DSP"]}
    assert api.post_records(audience_id, [_rec("u1")], targetResource=target).status_code == 400


def test_unknown_record_connection_is_400(api: Api) -> None:
    audience_id = api.create_audience()
    target = {"connectionId": "00000000-0000-4000-8000-000000000000"}
    assert api.post_records(audience_id, [_rec("u1")], targetResource=target).status_code == 400
