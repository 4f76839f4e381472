"""HTTP layer of the emulator: stdlib ThreadingHTTPServer, routing, auth and media-type checks.

Request bodies are never logged or recorded: they carry (hashed) PII. The request log keeps method, path,
query, status and a redacted subset of headers so tests can assert on client behaviour (retries, headers).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from adsbridge.ads import stream_v2_contract as v2_contract
from adsbridge.ads.contract import MAX_RECORDS_PER_REQUEST, SUBSCRIPTIONS_TYPE
from adsbridge.stream.datasets import Realm

from . import validation as v
from .faults import FaultResponse, Faults
from .firehose_delivery import FirehoseDelivery
from .model import DEFAULT_MATCH_RATE, Credentials, EmulatorState
from .streams import EmulatorSns, Owner, SqsDelivery, Subscriptions, owner_from_headers, with_code
from .streams_v2 import SubscriptionsV2
from .validation import ApiError

if TYPE_CHECKING:  # the delivery brings pyarrow: imported by whoever builds one
    from .stream_v2_delivery import V2Delivery

log = logging.getLogger(__name__)
_K = TypeVar("_K")
_V = TypeVar("_V")

TOKEN_PATH = "/auth/o2/token"
MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_LOGGED_REQUESTS = 100_000  # bounded so a long-running CLI sandbox does not grow without limit
_RECORDED_HEADERS = (
    *("authorization", "amazon-advertising-api-clientid", "content-type", "accept", "user-agent"),
    *("amazon-advertising-api-scope", "amazon-ads-account-id", "amazon-advertising-api-account-id"),
)


@dataclass(frozen=True)
class RequestRecord:
    """One handled request, without its body. ``headers`` keys are lower-case; Authorization is redacted."""

    method: str
    path: str
    query: str
    status: int
    headers: dict[str, str]
    fault: str | None = None
    at: float = field(default=0.0)  # time.monotonic() when the request arrived


@dataclass(frozen=True)
class _Reply:
    status: int
    body: dict[str, Any] | None
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


# ---------------------------------------------------------------------------------------------- routes

Handler = Callable[["_Call"], _Reply]


@dataclass(frozen=True)
class _Call:
    """What a route handler gets: parsed query, path parameter, raw body, headers, and the emulator state."""

    state: EmulatorState
    query: dict[str, list[str]]
    param: str
    raw_body: bytes
    max_records: int
    headers: Message
    streams: Subscriptions
    streams_v2: SubscriptionsV2

    def json(self) -> dict[str, Any]:
        return v.parse_json_object(self.raw_body)

    def no_query(self) -> None:
        self.query_value("", set())

    def query_value(self, name: str, allowed: set[str]) -> str | None:
        unknown = set(self.query) - allowed
        if unknown:
            raise ApiError(400, f"Unknown query parameter(s): {', '.join(sorted(unknown))}")
        values = self.query.get(name)
        if not values:
            return None
        if len(values) > 1:
            raise ApiError(400, f"Query parameter {name} given more than once")
        return values[0]


def _ok(status: int, body: dict[str, Any], vendor: str) -> _Reply:
    return _Reply(status, body, vendor)


def _get_terms(call: _Call) -> _Reply:
    call.no_query()
    return _ok(200, call.state.terms(), v.CONNECTIONS_TYPE)


def _patch_terms(call: _Call) -> _Reply:
    token, accepted = v.validate_terms_patch(call.json())
    call.state.set_terms(token, accepted)
    return _Reply(204, None, v.CONNECTIONS_TYPE)


def _post_connection(call: _Call) -> _Reply:
    body = call.json()
    call.state.require_terms()
    connection_id = call.state.add_connection(v.validate_connection(body))
    return _ok(201, {"connectionId": connection_id}, v.CONNECTIONS_TYPE)


def _get_connections(call: _Call) -> _Reply:
    allowed = {"connectionId", "isDefault"}
    connection_id = call.query_value("connectionId", allowed)
    default_text = call.query_value("isDefault", allowed)
    if default_text not in (None, "true", "false"):
        raise ApiError(400, "isDefault must be true or false")
    is_default = None if default_text is None else default_text == "true"
    # UNVERIFIED: whether an unknown connectionId gives 404 or an empty list; the emulator filters (empty list).
    return _ok(200, {"connections": call.state.list_connections(connection_id, is_default)}, v.CONNECTIONS_TYPE)


def _delete_connection(call: _Call) -> _Reply:
    connection_id = call.query_value("connectionId", {"connectionId"})
    if not connection_id:
        # On Amazon a DELETE without connectionId deletes ALL connections (docs/amc-audiences-api.md#connections).
        # That is never what a client means, so the emulator refuses it to make such a bug fail loudly instead
        # of wiping the sandbox.
        raise ApiError(400, "connectionId is required: refusing to delete all connections")
    call.state.remove_connection(connection_id)
    return _Reply(204, None, v.CONNECTIONS_TYPE)


def _post_metadata(call: _Call) -> _Reply:
    body = call.json()
    call.state.require_terms()
    return _ok(201, call.state.create_audience(v.validate_audience_create(body)), v.AUDIENCES_TYPE)


def _get_metadata(call: _Call) -> _Reply:
    call.no_query()
    return _ok(200, call.state.get_audience(v.parse_audience_id_path(call.param)), v.AUDIENCES_TYPE)


def _put_metadata(call: _Call) -> _Reply:
    audience_id = v.parse_audience_id_path(call.param)
    update = v.validate_audience_update(call.json())
    return _ok(200, call.state.update_audience(audience_id, update), v.AUDIENCES_TYPE)


def _post_records(call: _Call) -> _Reply:
    body = call.json()
    call.state.require_terms()
    job_id = call.state.submit_records(v.validate_records(body, call.max_records))
    return _ok(202, {"jobRequestId": job_id}, v.AUDIENCES_TYPE)


def _get_job(call: _Call) -> _Reply:
    call.no_query()
    return _ok(200, call.state.job(call.param), v.AUDIENCES_TYPE)


def _stream_call(action: Callable[[_Call, Owner], dict[str, Any] | None], call: _Call, *, dsp: bool) -> _Reply:
    """One subscriptions call: the owner from its header, errors shaped ``{"code", "message"}`` as the model says."""
    try:
        body = action(call, owner_from_headers(call.headers, dsp))
    except ApiError as exc:
        raise with_code(exc) from None
    return _Reply(200, body, SUBSCRIPTIONS_TYPE)


def _create_subscription(call: _Call, owner: Owner) -> dict[str, Any]:
    call.no_query()
    return call.streams.create(owner, call.json())


def _list_subscriptions(call: _Call, owner: Owner) -> dict[str, Any]:
    allowed = {"maxResults", "startingToken"}
    size, start = call.query_value("maxResults", allowed), call.query_value("startingToken", allowed)
    return call.streams.list(owner, size, start)


def _get_subscription(call: _Call, owner: Owner) -> dict[str, Any]:
    call.no_query()
    return call.streams.get(owner, call.param)


def _archive_subscription(call: _Call, owner: Owner) -> None:
    """The model's UpdateStreamSubscription answers 200 with no body."""
    call.no_query()
    call.streams.update(owner, call.param, call.json())


def _stream_v2_call(operation: str, call: _Call) -> _Reply:
    """One v2 subscriptions call; a malformed request is a 400 shaped ``{"code", "message"}`` as in v1."""
    try:
        call.no_query()
        status, body = call.streams_v2.handle(operation, call.json())
    except ApiError as exc:
        raise with_code(exc) from None
    return _Reply(status, body, v2_contract.MEDIA_TYPE)


def _stream_route_pair(prefix: str, dsp: bool) -> tuple[_Route, _Route]:
    def route(action: Callable[[_Call, Owner], dict[str, Any] | None]) -> Handler:
        return partial(_stream_call, action, dsp=dsp)

    return (
        _Route(
            re.compile(prefix),
            SUBSCRIPTIONS_TYPE,
            {"POST": route(_create_subscription), "GET": route(_list_subscriptions)},
        ),
        _Route(
            re.compile(prefix + r"/([^/]+)"),
            SUBSCRIPTIONS_TYPE,
            {"GET": route(_get_subscription), "PUT": route(_archive_subscription)},
        ),
    )


@dataclass(frozen=True)
class _Route:
    pattern: re.Pattern[str]
    vendor: str | frozenset[str]
    methods: dict[str, Handler]


_ROUTES = (
    _Route(
        re.compile(r"/amc/audiences/connections/terms"),
        v.CONNECTIONS_TYPE,
        {"GET": _get_terms, "PATCH": _patch_terms},
    ),
    _Route(
        re.compile(r"/amc/audiences/connections"),
        v.CONNECTIONS_TYPE,
        {"GET": _get_connections, "POST": _post_connection, "DELETE": _delete_connection},
    ),
    _Route(re.compile(r"/amc/audiences/metadata"), v.AUDIENCES_TYPE, {"POST": _post_metadata}),
    _Route(
        re.compile(r"/amc/audiences/metadata/([^/]+)"), v.AUDIENCES_TYPE, {"GET": _get_metadata, "PUT": _put_metadata}
    ),
    _Route(re.compile(r"/amc/audiences/records"), v.AUDIENCES_TYPE, {"POST": _post_records}),
    _Route(re.compile(r"/amc/audiences/records/([^/]+)"), v.AUDIENCES_TYPE, {"GET": _get_job}),
    *_stream_route_pair(r"/streams/subscriptions", dsp=False),
    *_stream_route_pair(r"/dsp/streams/subscriptions", dsp=True),
    *(
        _Route(re.compile(re.escape(path)), v2_contract.MEDIA_TYPE, {"POST": partial(_stream_v2_call, operation)})
        for operation, path in v2_contract.PATHS.items()
    ),
)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


# ---------------------------------------------------------------------------------------------- LwA


def _lwa_error(status: int, error: str, description: str) -> _Reply:
    return _Reply(
        status,
        {"error": error, "error_description": description},
        headers=(("Cache-Control", "no-store"), ("Pragma", "no-cache")),
    )


def _token(state: EmulatorState, content_type: str | None, authorization: str | None, raw: bytes) -> _Reply:
    """Login with Amazon ``POST /auth/o2/token`` (refresh_token and authorization_code grants)."""
    if authorization is not None:
        # Amazon's token endpoint fails if sent an Authorization header (docs/amc-audiences-api.md#login-with-amazon).
        return _lwa_error(400, "invalid_request", "The Authorization header must not be sent to the token endpoint")
    kind, _ = v.media_type(content_type)
    if kind != v.FORM_TYPE:
        return _lwa_error(400, "invalid_request", f"Content-Type must be {v.FORM_TYPE}")
    try:
        parsed = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
    except (UnicodeDecodeError, ValueError):
        return _lwa_error(400, "invalid_request", "The request body is not valid form encoding")
    if any(len(values) > 1 for values in parsed.values()):
        return _lwa_error(400, "invalid_request", "A parameter was sent more than once")
    form = {key: values[0] for key, values in parsed.items()}
    grant = form.get("grant_type")
    if not grant:
        return _lwa_error(400, "invalid_request", "The request is missing a required parameter : grant_type")
    if grant not in ("refresh_token", "authorization_code"):
        return _lwa_error(400, "unsupported_grant_type", f"Unsupported grant_type : {grant}")
    for name in ("client_id", "client_secret"):
        if not form.get(name):
            return _lwa_error(400, "invalid_request", f"The request is missing a required parameter : {name}")
    creds = state.credentials
    if form["client_id"] != creds.client_id or form["client_secret"] != creds.client_secret:
        return _lwa_error(401, "invalid_client", "Client authentication failed")

    if grant == "refresh_token":
        refresh = form.get("refresh_token")
        if not refresh:
            return _lwa_error(400, "invalid_request", "The request is missing a required parameter : refresh_token")
        if not state.refresh_token_valid(refresh):
            return _lwa_error(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
    else:
        code, redirect_uri = form.get("code"), form.get("redirect_uri")
        if not code or not redirect_uri:
            return _lwa_error(400, "invalid_request", "The request is missing a required parameter : code/redirect_uri")
        issued = state.redeem_authorization_code(code, redirect_uri)
        if issued is None:
            return _lwa_error(400, "invalid_grant", "The request has an invalid grant parameter : code")
        refresh = issued
    body = {
        "access_token": state.issue_access_token(),
        "token_type": "bearer",
        "expires_in": state.token_ttl_seconds,
        "refresh_token": refresh,
    }
    return _Reply(200, body, headers=(("Cache-Control", "no-store"), ("Pragma", "no-cache")))


# ---------------------------------------------------------------------------------------------- server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        super().__init__(address, _RequestHandler)
        self.emulator = emulator


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "adsbridge-emulator"
    timeout = 60
    # One buffered write per response and no Nagle: otherwise keep-alive clients wait ~40 ms per call
    # (delayed ACK), which would make every test slow.
    wbufsize = -1
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("emulator: " + format, *args)  # request line only; bodies are never logged

    def _handle(self) -> None:
        arrived = time.monotonic()
        emulator = self.server.emulator
        split = urlsplit(self.path)
        path, query = split.path, split.query
        fault_kind: str | None = None
        try:
            raw = self._read_body()
            fault = emulator.faults.take(path)
            if fault is not None:
                fault_kind = fault.kind
                reply = _fault_reply(fault)
            else:
                reply = self._dispatch(emulator, path, query, raw)
        except ApiError as exc:
            reply = _Reply(exc.status, exc.body)
        except Exception:
            log.exception("emulator: unhandled error for %s %s", self.command, path)
            reply = _Reply(500, {"message": "Internal emulator error"})
        # Record before answering so a test reading the log right after its response sees this request.
        emulator._record(
            RequestRecord(self.command, path, query, reply.status, self._recorded_headers(), fault_kind, arrived)
        )
        self._send(reply)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise ApiError(411, "Length Required: send a Content-Length, not chunked encoding")
        length_text = self.headers.get("Content-Length") or "0"
        if not length_text.isdigit():
            self.close_connection = True
            raise ApiError(400, "Invalid Content-Length")
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise ApiError(413, f"Request body larger than {MAX_BODY_BYTES} bytes")
        return self.rfile.read(length) if length else b""

    def _dispatch(self, emulator: Emulator, path: str, query: str, raw: bytes) -> _Reply:
        state = emulator.state
        if path == TOKEN_PATH:
            if self.command != "POST":
                return _Reply(405, {"message": "Method Not Allowed"}, headers=(("Allow", "POST"),))
            return _token(state, self.headers.get("Content-Type"), self.headers.get("Authorization"), raw)
        if not path.startswith(("/amc/", "/streams/", "/dsp/streams/", "/adsApi/")):
            return _Reply(404, {"message": f"Not Found: {path}"})

        auth = self.headers.get("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _Reply(401, {"code": "UNAUTHORIZED", "message": "Missing or malformed Authorization: Bearer header"})
        problem = state.access_token_status(token.strip())
        if problem:
            return _Reply(401, {"code": "UNAUTHORIZED", "message": problem})
        if self.headers.get("Amazon-Advertising-API-ClientId") != state.credentials.client_id:
            return _Reply(
                403, {"message": "Amazon-Advertising-API-ClientId header is missing or does not match the token"}
            )

        for route in _ROUTES:
            match = route.pattern.fullmatch(path)
            if match is None:
                continue
            handler = route.methods.get(self.command)
            if handler is None:
                allow = ", ".join(sorted(route.methods))
                return _Reply(405, {"message": f"Method Not Allowed; use {allow}"}, headers=(("Allow", allow),))
            v.check_accept(self.headers.get("Accept"), route.vendor)
            if self.command in _BODY_METHODS:
                v.check_content_type(self.headers.get("Content-Type"), route.vendor)
            param = match.group(1) if match.groups() else ""
            call = _Call(
                state,
                parse_qs(query, keep_blank_values=True),
                param,
                raw,
                emulator.max_records_per_request,
                self.headers,
                emulator.subscriptions,
                emulator.subscriptions_v2,
            )
            return handler(call)
        return _Reply(404, {"message": f"Not Found: {path}"})

    def _send(self, reply: _Reply) -> None:
        payload = b"" if reply.body is None else json.dumps(reply.body).encode("utf-8")
        self.send_response(reply.status)
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Content-Type", reply.content_type if reply.status < 400 else "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def _recorded_headers(self) -> dict[str, str]:
        recorded: dict[str, str] = {}
        for name in _RECORDED_HEADERS:
            value = self.headers.get(name)
            if value is None:
                continue
            if name == "authorization":
                value = value.partition(" ")[0] + " <redacted>"
            recorded[name] = value
        return recorded


def _fault_reply(fault: FaultResponse) -> _Reply:
    retry_after = fault.retry_after_header()
    headers = (("Retry-After", retry_after),) if retry_after is not None else ()
    return _Reply(fault.status, {"message": fault.message}, headers=headers)


def _or_key_error(getter: Callable[[_K], _V], key: _K) -> _V:
    try:
        return getter(key)
    except ApiError as exc:
        raise KeyError(key) from exc


class Emulator:
    """Amazon Ads AMC advertiser-audiences API, Marketing Stream subscriptions API and Login with Amazon token
    endpoint, on a local port.

    Use as a context manager (``with Emulator() as emu:``); ``port=0`` picks a free port. ``realm`` is the Ads
    API realm the emulator plays; with ``sqs_client_for`` (region -> boto3 SQS client, e.g. moto's) new stream
    subscriptions get a ``SubscriptionConfirmation`` in their queue and ``subscriptions.publish`` delivers data;
    with ``firehose_client_for`` too it also delivers to Firehose destinations. ``sns`` confirms them, standing
    in for Amazon's SNS (see ``emulator.streams``). With ``v2_delivery`` each new v2 subscription gets its
    Parquet files and notifications (``emulator.stream_v2_delivery``). ``match_rate`` (0.0-1.0, else
    ValueError) is the share of uploaded people that resolve to Amazon identities (see ``state.resolves``).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        pending_seconds: float = 0.5,
        token_ttl_seconds: int = 3600,
        max_records_per_request: int = MAX_RECORDS_PER_REQUEST,
        credentials: Credentials | None = None,
        seed: int = 0,
        realm: Realm = Realm.NA,
        sqs_client_for: Callable[[str], Any] | None = None,
        firehose_client_for: Callable[[str], Any] | None = None,
        v2_delivery: V2Delivery | None = None,
        match_rate: float = DEFAULT_MATCH_RATE,
    ) -> None:
        self.credentials = credentials or Credentials()
        self.subscriptions = Subscriptions(
            realm,
            SqsDelivery(sqs_client_for) if sqs_client_for else None,
            FirehoseDelivery(firehose_client_for) if firehose_client_for else None,
        )
        self.sns = EmulatorSns(self.subscriptions)
        self.subscriptions_v2 = SubscriptionsV2(realm, v2_delivery)
        self.max_records_per_request = max_records_per_request
        self.faults = Faults(seed)
        self.state = EmulatorState(
            self.credentials,
            pending_seconds=pending_seconds,
            token_ttl_seconds=token_ttl_seconds,
            seed=seed,
            match_rate=match_rate,
        )
        self._host, self._port = host, port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._log: deque[RequestRecord] = deque(maxlen=MAX_LOGGED_REQUESTS)
        self._log_lock = threading.Lock()
        self.url = ""
        self.token_url = ""

    def client_environment(self) -> dict[str, str]:
        """The variables that point the adsbridge CLI at this emulator, signed in to its sandbox account."""
        return {
            "ADSBRIDGE_API_URL": self.url,
            "ADSBRIDGE_TOKEN_URL": self.token_url,
            "ADSBRIDGE_CLIENT_ID": self.credentials.client_id,
            "ADSBRIDGE_CLIENT_SECRET": self.credentials.client_secret,
            "ADSBRIDGE_REFRESH_TOKEN": self.credentials.refresh_token,
        }

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Emulator:
        if self._server is not None:
            return self
        server = _Server((self._host, self._port), self)
        host, port = str(server.server_address[0]), int(server.server_address[1])
        self.url = f"http://{host}:{port}"
        self.token_url = f"{self.url}{TOKEN_PATH}"
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, name="adsbridge-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ test helpers

    def audience_members(self, audience_id: int) -> frozenset[str]:
        """externalUserIds in the audience's ledger (only jobs that have become terminal count).

        Raises KeyError for an unknown audience.
        """
        return _or_key_error(self.state.members, audience_id)

    def audience(self, audience_id: int) -> dict[str, Any]:
        """The audience as ``GET /amc/audiences/metadata/{id}`` would return it (KeyError if unknown)."""
        return _or_key_error(self.state.get_audience, audience_id)

    def job(self, job_request_id: str) -> dict[str, Any]:
        """The job as ``GET /amc/audiences/records/{id}`` would return it (KeyError if unknown)."""
        return _or_key_error(self.state.job, job_request_id)

    def request_log(self) -> list[RequestRecord]:
        with self._log_lock:
            return list(self._log)

    def clear_request_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    def expire_tokens(self) -> None:
        """Every access token issued so far becomes invalid; the next API call with one gets 401."""
        self.state.expire_tokens()

    def accept_terms(self) -> None:
        self.state.set_terms(self.state.terms_token, True)

    def issue_authorization_code(self, redirect_uri: str) -> str:
        """A single-use LwA authorization code, valid 5 minutes, for the authorization_code grant."""
        return self.state.issue_authorization_code(redirect_uri)

    def revoke_refresh_token(self, refresh_token: str | None = None) -> None:
        """Revoke ``refresh_token`` (default: the sandbox credentials' one); later grants get invalid_grant."""
        self.state.revoke_refresh_token(refresh_token)

    def _record(self, record: RequestRecord) -> None:
        with self._log_lock:
            self._log.append(record)
