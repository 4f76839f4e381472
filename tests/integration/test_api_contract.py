"""Every request adsbridge sends to the Ads API, and every answer the emulator gives, against Amazon's models.

The models (docs/amazon-api-models.md) are restated in docs/ads-api-contract.json. Requests are recorded at the
HTTP layer while the real entry points run — ``adsbridge export`` (create, update, AMC and DSP targets),
``adsbridge streams``, the stack's subscription resource and monitor — so whatever body, header or media type
any of them builds is what is checked: path, method, headers, media types, query, body schema (no unknown
fields), then the emulator's status code and body. Values outside the model are refused before anything is sent.
"""

from __future__ import annotations

import itertools
import json
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import requests

from adsbridge.ads import AdsSession, AudiencesClient, ContractError, Owner, StreamsClient, TokenProvider, session_for
from adsbridge.ads import contract as limits
from adsbridge.cli import main
from adsbridge.identity.countries import normalize_country
from adsbridge.regions import Region
from adsbridge.stream import subscription_monitor, subscription_resource
from adsbridge.stream.datasets import Realm
from adsbridge_sandbox.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
CONTRACT: dict[str, Any] = json.loads((ROOT / "docs/ads-api-contract.json").read_text())
SAMPLE = ROOT / "samples/customers.csv"
PROFILE, ADVERTISER = "3519471835403213", "585193847120"
ACCOUNT = "123456789012"


@dataclass(frozen=True)
class Sent:
    """One request as it left the client, and the emulator's answer."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes | None
    status: int
    answer: bytes


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[Sent]:
    """Records every Ads API request made through ``requests`` (token requests excluded) while a test runs."""
    recorded: list[Sent] = []
    original = requests.Session.request

    def request(self: requests.Session, method: str, url: str, **kwargs: Any) -> requests.Response:
        response = original(self, method, url, **kwargs)
        prepared = response.request
        split = urlsplit(prepared.url or "")
        if split.path != "/auth/o2/token":
            query: dict[str, list[str]] = {}
            for key, value in (kwargs.get("params") or {}).items():
                query.setdefault(key, []).append(value)
            body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
            headers = {k.lower(): v for k, v in prepared.headers.items()}
            recorded.append(Sent(method, split.path, query, headers, body, response.status_code, response.content))
        return response

    monkeypatch.setattr(requests.Session, "request", request)
    return recorded


# ------------------------------------------------------------------------------------------- the checker


def _operation(method: str, path: str) -> tuple[dict[str, Any], dict[str, str]]:
    found = []
    for op in CONTRACT["operations"]:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", op["path"])
        match = re.fullmatch(pattern, path)
        if op["method"] == method and match:
            found.append((op, match.groupdict()))
    assert len(found) == 1, f"{method} {path}: {len(found)} operations in the model match"
    return found[0]


def _validate(value: Any, schema: dict[str, Any], where: str) -> None:
    validator = jsonschema.Draft7Validator({**schema, "definitions": CONTRACT["definitions"]})
    problems = sorted(
        f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(value)
    )
    assert not problems, f"{where} is outside the model: {problems}"


def _query(op: dict[str, Any], query: dict[str, list[str]]) -> dict[str, Any]:
    """Query values parsed as the model types them (integers and booleans travel as text)."""
    props = op["query"]["properties"]
    parsed: dict[str, Any] = {}
    for name, values in query.items():
        assert len(values) == 1, f"query parameter {name} sent {len(values)} times"
        kind = props.get(name, {}).get("type")
        parsed[name] = json.loads(values[0]) if kind in ("integer", "boolean") else values[0]
    return parsed


def check(request: Sent) -> str:
    """Assert ``request`` and its answer conform to the contract; returns the operation's name."""
    op, params = _operation(request.method, request.path)
    where = f"{op['name']} ({request.method} {request.path})"
    for name, value in params.items():
        _validate(value, op["pathParameters"][name], f"{where} path parameter {name}")
    known = {h.lower() for h in (*CONTRACT["alwaysSent"], *op["headers"]["required"], *op["headers"]["optional"])}
    for name in (*CONTRACT["alwaysSent"], *op["headers"]["required"]):
        assert request.headers.get(name.lower()), f"{where}: required header {name} not sent"
    unknown = sorted(h for h in request.headers if h.startswith("amazon-") and h not in known)
    assert not unknown, f"{where}: headers the model does not list: {unknown}"
    assert request.headers.get("accept") == op["mediaType"], f"{where}: Accept {request.headers.get('accept')}"
    _validate(_query(op, request.query), op["query"], f"{where} query")
    if request.body:
        assert "body" in op, f"{where}: a body was sent to an operation that takes none"
        assert request.headers.get("content-type") == op["mediaType"], f"{where}: Content-Type"
        _validate(json.loads(request.body), op["body"], f"{where} body")
    else:
        assert not op.get("bodyRequired"), f"{where}: the model requires a body"
    if request.status < 400:
        assert request.status == op["success"], f"{where}: answered {request.status}, the model says {op['success']}"
        if "response" in op:
            _validate(json.loads(request.answer), op["response"], f"{where} answer")
    else:
        _validate(json.loads(request.answer), op["errorBody"], f"{where} error answer")
    return str(op["name"])


def check_all(requests_sent: list[Sent]) -> set[str]:
    assert requests_sent, "nothing was sent"
    return {check(request) for request in requests_sent}


# ------------------------------------------------------------------------------------------- what runs


def export(tmp_path: Path, **settings: Any) -> int:
    data = json.loads((ROOT / "samples/settings.json").read_text())
    data.update(wait_until_finish=True, max_wait_time=1, **settings)
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(data))
    report = tmp_path / "report.json"
    argv = ["export", "--settings", str(path), "--input", str(SAMPLE), "--report-json", str(report)]
    code = main([*argv, "--poll-interval", "0.05", "--accept-terms"])
    assert code == 0, report.read_text() if report.exists() else "no report"
    return int(json.loads(report.read_text())["audience_id"])


@pytest.fixture
def fresh_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """An emulator whose AMC terms are not yet accepted, so ``--accept-terms`` sends the PATCH too."""
    with Emulator(pending_seconds=0.05) as emu:
        for name, value in emu.client_environment().items():
            monkeypatch.setenv(name, value)
        yield emu


def test_every_export_request_conforms(fresh_emulator: Emulator, sent: list[Sent], tmp_path: Path) -> None:
    audience_id = export(tmp_path, target="AMC")
    export(tmp_path, target="AMC_AND_DSP", external_audience_id="adsbridge-sample-dsp")
    export(tmp_path, action="UPDATE", audience_id=audience_id, audience_description="Refreshed", time_to_live=604800)
    assert check_all(sent) == {
        *("AmcpLinkGetTermsV2", "AmcpLinkSetTermsAcceptanceV2", "AmcpLinkGetConnectionsV2", "AmcpLinkAddConnectionV2"),
        *("CreateAudienceMetadataV2", "GetAudienceMetadataV2", "UpdateAudienceMetadataV2"),
        *("ManageAudienceV2", "ManageAudienceStatusV2"),
    }


def test_every_setting_combination_conforms(fresh_emulator: Emulator, sent: list[Sent], tmp_path: Path) -> None:
    """DELETE uploads, DSP targets on an update, no fee, a zero TTL, no AMC account: every body an export builds."""
    dsp = {"target": "AMC_AND_DSP", "dsp_advertiser_id": "4611686018427387903", "amc_account_id": None}
    audience_id = export(tmp_path, **dsp, external_audience_id="adsbridge-edge", audience_fee="", audience_description="",
                         time_to_live=0)  # fmt: skip
    export(tmp_path, **dsp, action="UPDATE", upload_mode="DELETE", audience_id=audience_id, audience_fee="EUR:20")
    export(tmp_path, action="UPDATE", upload_mode="DELETE", target="AMC", audience_id=audience_id,
           audience_description="Refreshed")  # fmt: skip
    check_all(sent)
    created = [json.loads(r.body or b"") for r in sent if r.method == "POST" and r.path == "/amc/audiences/metadata"]
    assert [body["metadata"] for body in created] == [{"externalAudienceId": "adsbridge-edge", "ttl": 0}]
    uploads = [json.loads(r.body or b"") for r in sent if r.method == "POST" and r.path == "/amc/audiences/records"]
    shapes = {(*upload["targetResource"].get("targetTypes", []), record["action"])
              for upload in uploads for record in upload["records"]}  # fmt: skip
    assert shapes == {("DSP", "CREATE"), ("DSP", "DELETE"), ("DELETE",)}
    assert {upload["audienceId"] for upload in uploads} == {audience_id}


def _streams(emulator: Emulator) -> Callable[[Realm], StreamsClient]:
    return lambda realm: StreamsClient(session_for(Region(realm.value), env=emulator.client_environment()))


@pytest.mark.parametrize(
    ("owner", "dataset", "tag"),
    [(["--profile", PROFILE], "sp-traffic", ""), (["--dsp-advertiser", ADVERTISER], "adsp-traffic", "Dsp")],
)
def test_every_subscription_request_conforms(
    fresh_emulator: Emulator,
    sent: list[Sent],
    capsys: pytest.CaptureFixture[str],
    owner: list[str],
    dataset: str,
    tag: str,
) -> None:
    streams = ["streams", "subscribe", "--realm", "NA", *owner, "--dataset", dataset, "--account-id", ACCOUNT, "--json"]
    assert main([*streams, "--notes", "made by the contract test"]) == 0
    subscription_id = json.loads(capsys.readouterr().out)[0]["subscriptionId"]
    assert main(["streams", "list", "--realm", "NA", *owner]) == 0
    assert main(["streams", "status", "--realm", "NA", *owner, subscription_id]) == 0
    assert main(["streams", "archive", "--realm", "NA", *owner, subscription_id]) == 0
    assert check_all(sent) == {f"{verb}{tag}StreamSubscription{s}" for verb, s in
                               (("Create", ""), ("Get", ""), ("List", "s"), ("Update", ""))}  # fmt: skip


def test_the_stack_resource_and_monitor_conform(fresh_emulator: Emulator, sent: list[Sent]) -> None:
    client_for = _streams(fresh_emulator)
    for dsp, owner, dataset in (("false", PROFILE, "sp-traffic"), ("true", ADVERTISER, "adsp-traffic")):
        event = {
            "RequestType": "Create",
            "RequestId": "5f3b2f0e-6c1d-4a53-9f55-2b8a1c9e7d10",
            "StackId": f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/adsbridge-stream/1",
            "LogicalResourceId": f"Subscription{dataset.replace('-', '')}",
            "ResourceProperties": {"Realm": "NA", "OwnerId": owner, "Dsp": dsp, "DatasetId": dataset,
                                   "QueueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:adsbridge-{dataset}"},
        }  # fmt: skip
        created = subscription_resource.on_event(event, client_for)
        deleted = {**event, "RequestType": "Delete", "PhysicalResourceId": created["PhysicalResourceId"]}
        subscription_resource.on_event(deleted, client_for)
    owners = [Owner(PROFILE), Owner(ADVERTISER, dsp=True)]
    counts = subscription_monitor.run(client_for, Realm.NA, owners, [], datetime.now(UTC))
    assert counts["ARCHIVED"] == 2
    names = check_all(sent)
    assert {"CreateStreamSubscription", "CreateDspStreamSubscription", "UpdateDspStreamSubscription"} <= names


def test_paging_and_a_resource_update_conform(fresh_emulator: Emulator, sent: list[Sent]) -> None:
    """A listing past its first page sends startingToken; an Update with a new queue subscribes anew and archives."""
    client_for = _streams(fresh_emulator)
    for dsp, owner, dataset in (("false", "4611686018427387903", "sp-traffic"), ("true", ADVERTISER, "adsp-traffic")):
        properties = {"Realm": "NA", "OwnerId": owner, "Dsp": dsp, "DatasetId": dataset,
                      "QueueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:adsbridge-{dataset}"}  # fmt: skip
        event = {"RequestType": "Create", "RequestId": "5f3b2f0e-6c1d-4a53-9f55-2b8a1c9e7d10",
                 "StackId": f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/adsbridge-stream/1",
                 "LogicalResourceId": "Subscription", "ResourceProperties": properties}  # fmt: skip
        created = subscription_resource.on_event(event, client_for)["PhysicalResourceId"]
        moved = {**properties, "QueueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:adsbridge2-{dataset}"}
        update = {**event, "RequestType": "Update", "RequestId": "6a4c3f1f-7d2e-4b64-8a66-3c9b2d0f8e21",
                  "PhysicalResourceId": created, "OldResourceProperties": properties, "ResourceProperties": moved}  # fmt: skip
        assert subscription_resource.on_event(update, client_for)["PhysicalResourceId"] != created
        subscription_resource.on_event({**event, "RequestType": "Delete", "PhysicalResourceId": created}, client_for)
        listed = list(client_for(Realm.NA).list(Owner(owner, dsp=dsp == "true"), page_size=1))
        assert len(listed) == 2
    check_all(sent)
    assert any("startingToken" in r.query for r in sent if r.path == "/dsp/streams/subscriptions")
    assert any("startingToken" in r.query for r in sent if r.path == "/streams/subscriptions")


# ------------------------------------------------------------------------------------------- refused before sending


def test_an_out_of_model_setting_stops_the_cli_before_any_request(
    fresh_emulator: Emulator, sent: list[Sent], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = json.loads((ROOT / "samples/settings.json").read_text()) | {"audience_name": "VIP buyer"}
    (tmp_path / "settings.json").write_text(json.dumps(settings))
    assert main(["export", "--settings", str(tmp_path / "settings.json"), "--input", str(SAMPLE)]) == 2
    assert "audience_name: must be 10-128 characters" in capsys.readouterr().err
    subscribe = ["streams", "subscribe", "--realm", "NA", "--profile", PROFILE, "--account-id", ACCOUNT]
    assert main([*subscribe, "--dataset", "sp-traffic", "--notes", "n" * 129]) == 2
    assert "--notes: at most 128 characters" in capsys.readouterr().err
    assert sent == []


SUBSCRIBE = ["subscribe", "--profile", PROFILE, "--dataset", "sp-traffic", "--account-id"]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["status", "--profile", PROFILE, "x/../../amc/audiences/connections"], 1, "subscription_id: must be"),
        (["archive", "--dsp-advertiser", ADVERTISER, "a" * 256], 1, "subscription_id: must be"),
        (["list", "--profile", f"{PROFILE}\n1"], 1, "profile_id: must be 1-20 digits"),
        (["list", "--dsp-advertiser", ""], 1, "dsp_advertiser_id: must be"),
        ([*SUBSCRIBE, "1" * 250], 2, "--account-id"),
        ([*SUBSCRIBE, ACCOUNT, "--queue-prefix", "../"], 2, "--queue-prefix"),
    ],
)
def test_hostile_streams_arguments_send_nothing(
    fresh_emulator: Emulator,
    sent: list[Sent],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: int,
    message: str,
) -> None:
    """An id the CLI puts in a path or header as given, or a queue it names, is checked before any request."""
    assert main(["streams", argv[0], "--realm", "NA", *argv[1:]]) == code
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert sent == []


@pytest.fixture
def session(fresh_emulator: Emulator) -> AdsSession:
    """A session on an emulator whose terms are accepted: without the checks, these calls would be sent."""
    fresh_emulator.accept_terms()
    credentials = fresh_emulator.credentials.lwa()
    return AdsSession(fresh_emulator.url, TokenProvider(credentials, fresh_emulator.token_url))


def _audience(name: str, description: str = "") -> dict[str, Any]:
    return {"name": name, "description": description, "targetResource": {"connectionId": "c"},
            "metadata": {"externalAudienceId": "e"}}  # fmt: skip


def _record() -> bytes:
    return json.dumps({"externalUserId": "u1", "action": "CREATE", "hashedPII": [{"email": "0" * 64}]}).encode()


REFUSED: dict[str, tuple[Callable[[AdsSession], object], str]] = {
    "name-9": (lambda s: AudiencesClient(s).create_audience(_audience("VIP buyer")), "audience_name"),
    "name-129": (lambda s: AudiencesClient(s).create_audience(_audience("n" * 129)), "audience_name"),
    "description-1001": (
        lambda s: AudiencesClient(s).create_audience(_audience("VIP buyers 2026", "d" * 1001)),
        "audience_description",
    ),
    "no-records": (lambda s: AudiencesClient(s).upload_records(1, [], None), "records"),
    "records-10001": (lambda s: AudiencesClient(s).upload_records(1, [_record()] * 10_001, None), "records"),
    "target-without-connection": (
        lambda s: AudiencesClient(s).upload_records(1, [_record()], {"targetTypes": ["DSP"]}),
        "targetResource.connectionId",
    ),
    "notes-129": (
        lambda s: StreamsClient(s).create(Owner(PROFILE), "sp-traffic", "arn:aws:sqs:us-east-1:1:q", notes="n" * 129),
        "notes",
    ),
    "token-21": (
        lambda s: StreamsClient(s).create(Owner(PROFILE), "sp-traffic", "q", client_request_token="t" * 21),
        "clientRequestToken",
    ),
    "token-37": (
        lambda s: StreamsClient(s).create(Owner(PROFILE), "sp-traffic", "q", client_request_token="t" * 37),
        "clientRequestToken",
    ),
    "archive-notes-129": (lambda s: StreamsClient(s).archive(Owner(PROFILE), "amzn1.x", notes="n" * 129), "notes"),
    "page-5001": (lambda s: list(StreamsClient(s).list(Owner(PROFILE), page_size=5001)), "page_size"),
    # ids placed in a URL path or a header as given: another path, a query or a header break would go out
    "subscription-id-path": (
        lambda s: StreamsClient(s).get(Owner(PROFILE), "x/../../amc/audiences/connections"),
        "subscription_id",
    ),
    "subscription-id-query": (lambda s: StreamsClient(s).get(Owner(PROFILE), "x?maxResults=1"), "subscription_id"),
    "subscription-id-dots": (lambda s: StreamsClient(s).archive(Owner(ADVERTISER, dsp=True), ".."), "subscription_id"),
    "subscription-id-256": (lambda s: StreamsClient(s).archive(Owner(PROFILE), "a" * 256), "subscription_id"),
    "profile-line-break": (lambda s: list(StreamsClient(s).list(Owner(f"{PROFILE}\n1"))), "profile_id"),
    "profile-not-digits": (lambda s: list(StreamsClient(s).list(Owner("ENTITY1"))), "profile_id"),
    "profile-fullwidth-digits": (lambda s: list(StreamsClient(s).list(Owner("\uff11\uff12\uff13"))), "profile_id"),
    "advertiser-empty": (lambda s: list(StreamsClient(s).list(Owner("", dsp=True))), "dsp_advertiser_id"),
    "queue-arn-256": (lambda s: StreamsClient(s).create(Owner(PROFILE), "sp-traffic", "q" * 256), "queueArn"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_out_of_model_values_are_refused_before_sending(session: AdsSession, sent: list[Sent], case: str) -> None:
    call, field = REFUSED[case]
    with pytest.raises(ContractError) as refused:
        call(session)
    assert str(refused.value).startswith(f"{field}: ")
    assert not refused.value.retryable
    assert sent == [] and session.stats.requests == 0


def test_the_bounds_at_the_edges_are_sent(session: AdsSession, sent: list[Sent]) -> None:
    """The limits are inclusive: 10 and 128 characters, a 22- and a 36-character token, 128 characters of notes."""
    client, streams = AudiencesClient(session), StreamsClient(session)
    connection = client.create_connection({"amcInstanceId": "amcsample0001"})
    for name in ("n" * 10, "n" * 128):
        client.create_audience({**_audience(name), "targetResource": {"connectionId": connection},
                                "metadata": {"externalAudienceId": f"edge-{len(name)}"}})  # fmt: skip
    for token, dataset in (("t" * 22, "sp-traffic"), ("t" * 36, "sp-conversion")):
        queue = f"arn:aws:sqs:us-east-1:{ACCOUNT}:adsbridge-{dataset}"
        streams.create(Owner(PROFILE), dataset, queue, client_request_token=token, notes="n" * 128)
    check_all(sent)
    created = [r.status for r in sent if r.method == "POST" and r.path != "/amc/audiences/connections"]
    assert created == [201, 201, 200, 200]


def _created_with_country(country: str) -> Sent:
    body = {"name": "VIP buyers 2026", "description": "", "targetResource": {"connectionId": "c"},
            "countryCode": country, "metadata": {"externalAudienceId": "e", "ttl": 0}}  # fmt: skip
    headers = {"accept": limits.AUDIENCES_TYPE, "content-type": limits.AUDIENCES_TYPE, "authorization": "Bearer t",
               "amazon-advertising-api-clientid": "amzn1.application-oa2-client.x"}  # fmt: skip
    answer = json.dumps({"audienceId": 361054992504331123}).encode()
    return Sent("POST", "/amc/audiences/metadata", {}, headers, json.dumps(body).encode(), 201, answer)


def test_a_country_code_outside_the_models_list_is_caught() -> None:
    """The model lists the country codes it takes; two capital letters are not enough (ZZ is no country)."""
    assert check(_created_with_country("DE")) == "CreateAudienceMetadataV2"
    with pytest.raises(AssertionError, match="countryCode"):
        check(_created_with_country("ZZ"))


def test_every_country_the_client_can_send_is_in_the_model() -> None:
    """Settings and rows name a country any way normalize_country reads; what goes out must be in the model's list."""
    listed = set(CONTRACT["definitions"]["countryCode"]["enum"])
    spellings = ["".join(pair) for pair in itertools.product(string.ascii_uppercase, repeat=2)]
    sent_codes = {code for code in map(normalize_country, [*spellings, "UK", "uk", " gb "]) if code is not None}
    assert len(sent_codes) > 240 and sent_codes <= listed


def test_this_module_limits_match_the_contract() -> None:
    """``adsbridge.ads.contract`` is what the client and emulator enforce; it must say what the models say."""
    assert CONTRACT["limits"] == {
        "audienceNameLength": list(limits.AUDIENCE_NAME_LENGTH),
        "audienceDescriptionMax": limits.AUDIENCE_DESCRIPTION_MAX,
        "subscriptionNotesMax": limits.SUBSCRIPTION_NOTES_MAX,
        "clientRequestTokenLength": list(limits.CLIENT_REQUEST_TOKEN_LENGTH),
        "recordsPerRequest": limits.MAX_RECORDS_PER_REQUEST,
        "listMaxResults": limits.MAX_LIST_RESULTS,
    }
    media = {op["mediaType"] for op in CONTRACT["operations"]}
    assert media == {limits.AUDIENCES_TYPE, limits.CONNECTIONS_TYPE, limits.SUBSCRIPTIONS_TYPE}
    dsp = {h for op in CONTRACT["operations"] if op["path"].startswith("/dsp/") for h in op["headers"]["required"]}
    assert limits.DSP_ACCOUNT_HEADER in dsp and limits.CLIENT_ID_HEADER in dsp
