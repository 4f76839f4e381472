"""In-memory model of one Amazon Ads sandbox: credentials, tokens, terms, connections, audiences, jobs, ledger.

Everything is guarded by one lock; handler threads call in concurrently. Jobs have no background worker:
due jobs are settled (made terminal and applied to the membership ledger, in POST order, exactly once)
whenever state is read or changed.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from adsbridge.ads.auth import LwaCredentials

from .validation import ApiError, AudienceInput, AudienceUpdate, ConnectionInput, RecordInput, RecordsInput

AUTH_CODE_TTL_SECONDS = 300.0
MAX_TTL_DEFAULT = 34_300_800
DEFAULT_MATCH_RATE = 0.75  # an email hash below 0xc0000000 matches: the old "first hex digit 0-b" rule
TERMS_TEXT = (
    "AMC Terms (sandbox): by accepting you confirm you may upload first-party data to Amazon Marketing Cloud. "
    "This text is served by the adsbridge emulator and is not Amazon's agreement."
)


@dataclass(frozen=True)
class Credentials:
    """Login with Amazon app credentials plus a refresh token the sandbox accepts."""

    client_id: str = "amzn1.application-oa2-client.adsbridgesandbox000000000000"
    client_secret: str = "amzn1.oa2-cs.v1.adsbridge-sandbox-secret"
    refresh_token: str = "Atzr|adsbridge-sandbox-refresh-token"

    def lwa(self) -> LwaCredentials:
        """The same three values as the Ads client takes them."""
        return LwaCredentials(self.client_id, self.client_secret, self.refresh_token)


@dataclass
class Connection:
    connection_id: str
    fields: dict[str, str]
    is_default: bool
    created: str
    modified: str

    def to_json(self, client_id: str) -> dict[str, Any]:
        body: dict[str, Any] = dict(self.fields)
        body.update(
            connectionId=self.connection_id,
            clientId=client_id,
            customerId="adsbridge-sandbox-customer",
            isDefault=self.is_default,
            creationDateTime=self.created,
            modifiedDateTime=self.modified,
        )
        if "amcInstanceId" in self.fields:
            body["amcInstanceName"] = f"sandbox-{self.fields['amcInstanceId']}"
        if "dspAdvertiserId" in self.fields:
            body["dspAdvertiserName"] = f"Sandbox advertiser {self.fields['dspAdvertiserId']}"
        return body


@dataclass
class Member:
    resolved: bool
    dsp: bool


@dataclass
class Audience:
    audience_id: int
    spec: AudienceInput
    description: str
    ttl: int
    audience_fees: list[dict[str, Any]]
    received_records: int = 0
    members: dict[str, Member] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.spec.advertiser_id is not None:
            body["advertiserId"] = self.spec.advertiser_id
        body.update(
            audienceId=self.audience_id,
            countryCode=self.spec.country_code or "UNKNOWN",
            description=self.description,
            name=self.spec.name,
            metadata={
                "externalAudienceId": self.spec.external_audience_id,
                "ttl": self.ttl,
                "audienceFees": [dict(fee) for fee in self.audience_fees],
                "audienceSize": {
                    "receivedRecordSize": self.received_records,
                    "idResolutionCount": sum(m.resolved for m in self.members.values()),
                    "dspAudienceSize": sum(m.resolved and m.dsp for m in self.members.values()),
                },
            },
        )
        return body


@dataclass
class Job:
    job_id: str
    audience_id: int
    due: float
    dsp: bool
    records: list[RecordInput]
    match_rate: float = DEFAULT_MATCH_RATE
    state: str = "PENDING"

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"jobRequestId": self.job_id, "jobState": self.state}
        if self.state == "PENDING":
            return body
        valid = [r for r in self.records if r.error is None]
        resolved = sum(resolves(r, self.match_rate) for r in valid)
        rate = round(100.0 * len(valid) / len(self.records), 2)
        body.update(
            successful={"recordsProcessedRate": rate},
            audienceSize={
                "receivedRecordSize": len(self.records),
                "idResolutionCount": resolved,
                "dspAudienceSize": resolved if self.dsp else 0,
            },
            invalidRecords=[{"externalId": r.external_id, "error": r.error} for r in self.records if r.error],
        )
        return body


_OTHER_PII = ("firstname", "lastname", "address", "city", "state", "postal")


def check_match_rate(match_rate: float) -> float:
    if isinstance(match_rate, bool) or not isinstance(match_rate, int | float) or not 0.0 <= match_rate <= 1.0:
        raise ValueError(f"match_rate must be a number from 0.0 to 1.0, got {match_rate!r}")
    return float(match_rate)


def match_fraction(record: RecordInput) -> float | None:
    """A stable point in [0, 1) for the person a record names; None when it names nobody.

    Taken from the strongest identifier, as Amazon matches on it first: the email hash, else the phone hash
    (first 8 hex digits; SHA-256 is uniform), else a hash over all other PII. Several values of one kind are
    hashed together in sorted order, so entry order never changes the outcome.
    """
    for key in ("email", "phone"):
        values = record.pii.get(key)
        if values:
            return _fraction(values[0] if len(values) == 1 else _sha256("\n".join(sorted(values))))
    other = sorted(f"{key}={value}" for key in _OTHER_PII for value in record.pii.get(key, ()))
    return _fraction(_sha256("\n".join(other))) if other else None


def resolves(record: RecordInput, match_rate: float = DEFAULT_MATCH_RATE) -> bool:
    """Deterministic stand-in for Amazon's identity resolution: about ``match_rate`` of random people match.

    A function of the hashed identifiers alone (no seed), so one person resolves the same way in every job,
    CREATE or DELETE, and a lower rate's matches are a subset of a higher one's.
    """
    fraction = match_fraction(record)
    return fraction is not None and fraction < match_rate


def _fraction(hex_digest: str) -> float:
    return int(hex_digest[:8], 16) / 2**32


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class EmulatorState:
    """Thread-safe sandbox state. Methods raise :class:`ApiError` for answers other than success."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        pending_seconds: float,
        token_ttl_seconds: int,
        seed: int = 0,
        match_rate: float = DEFAULT_MATCH_RATE,
    ) -> None:
        self._lock = threading.RLock()
        self.match_rate = check_match_rate(match_rate)
        self.credentials = credentials
        self.pending_seconds = pending_seconds
        self.token_ttl_seconds = token_ttl_seconds
        self._rng = random.Random(seed)
        self._access_tokens: dict[str, float] = {}  # token -> wall-clock expiry
        self._refresh_tokens: set[str] = {credentials.refresh_token}
        self._auth_codes: dict[str, tuple[str, float]] = {}  # code -> (redirect_uri, expiry)
        self.terms_token = "amc-terms-" + secrets.token_hex(8)
        self.terms_accepted = False
        self._connections: dict[str, Connection] = {}
        self._audiences: dict[int, Audience] = {}
        self._jobs: dict[str, Job] = {}
        self._pending: list[Job] = []

    # ------------------------------------------------------------------ Login with Amazon

    def issue_access_token(self) -> str:
        token = "Atza|" + secrets.token_urlsafe(48)
        with self._lock:
            self._access_tokens[token] = time.time() + self.token_ttl_seconds
        return token

    def refresh_token_valid(self, refresh_token: str) -> bool:
        with self._lock:
            return refresh_token in self._refresh_tokens

    def revoke_refresh_token(self, refresh_token: str | None = None) -> None:
        with self._lock:
            self._refresh_tokens.discard(refresh_token or self.credentials.refresh_token)

    def issue_authorization_code(self, redirect_uri: str) -> str:
        code = "ANauth" + secrets.token_urlsafe(16)
        with self._lock:
            self._auth_codes[code] = (redirect_uri, time.time() + AUTH_CODE_TTL_SECONDS)
        return code

    def redeem_authorization_code(self, code: str, redirect_uri: str) -> str | None:
        """Single use: the code is consumed even when the redirect_uri does not match. Returns a refresh token."""
        with self._lock:
            entry = self._auth_codes.pop(code, None)
            if entry is None or entry[0] != redirect_uri or time.time() >= entry[1]:
                return None
            refresh = "Atzr|" + secrets.token_urlsafe(48)
            self._refresh_tokens.add(refresh)
            return refresh

    def access_token_status(self, token: str) -> str | None:
        """None if ``token`` is usable, else why not."""
        with self._lock:
            expiry = self._access_tokens.get(token)
        if expiry is None:
            return "The access token is invalid"
        if time.time() >= expiry:
            return "The access token has expired"
        return None

    def expire_tokens(self) -> None:
        with self._lock:
            for token in self._access_tokens:
                self._access_tokens[token] = 0.0

    # ------------------------------------------------------------------ terms

    def terms(self) -> dict[str, Any]:
        with self._lock:
            return {
                "agreementContent": TERMS_TEXT,
                "agreementToken": self.terms_token,
                "hasAccepted": self.terms_accepted,
            }

    def set_terms(self, token: str, accepted: bool) -> dict[str, Any]:
        with self._lock:
            if token != self.terms_token:
                raise ApiError(400, "agreementToken does not match the current AMC terms agreement")
            self.terms_accepted = accepted
            return {"agreementToken": self.terms_token, "hasAccepted": accepted}

    def require_terms(self) -> None:
        # The real error for un-accepted terms is UNVERIFIED (docs/amc-audiences-api.md#terms);
        # 403 with this text is the emulator's choice.
        with self._lock:
            if not self.terms_accepted:
                raise ApiError(
                    403,
                    "AMC terms have not been accepted. GET and PATCH /amc/audiences/connections/terms "
                    "as the user who granted authorization.",
                )

    # ------------------------------------------------------------------ connections

    def add_connection(self, spec: ConnectionInput) -> str:
        with self._lock:
            self.require_terms()
            fields = dict(spec.fields)
            connection_id = fields.pop("connectionId", None) or str(self._uuid())
            if connection_id in self._connections:
                raise ApiError(400, f"connectionId {connection_id} already exists")
            if spec.is_default:  # "Setting isDefault:true un-defaults the previous default"
                for other in self._connections.values():
                    other.is_default = False
            now = _now_iso()
            self._connections[connection_id] = Connection(connection_id, fields, spec.is_default, now, now)
            return connection_id

    def list_connections(self, connection_id: str | None, is_default: bool | None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                c.to_json(self.credentials.client_id)
                for c in self._connections.values()
                if (connection_id is None or c.connection_id == connection_id)
                and (is_default is None or c.is_default == is_default)
            ]

    def remove_connection(self, connection_id: str) -> None:
        with self._lock:
            if self._connections.pop(connection_id, None) is None:
                raise ApiError(404, f"Connection {connection_id} was not found")

    def _connection(self, connection_id: str, where: str) -> Connection:
        connection = self._connections.get(connection_id)
        if connection is None:
            raise ApiError(400, f"{where} {connection_id} does not exist")
        return connection

    # ------------------------------------------------------------------ audiences

    def create_audience(self, spec: AudienceInput) -> dict[str, Any]:
        with self._lock:
            self.require_terms()
            if spec.connection_id is not None:
                self._connection(spec.connection_id, "targetResource.connectionId")
            if any(a.spec.external_audience_id == spec.external_audience_id for a in self._audiences.values()):
                # Amazon's answer to a duplicate externalAudienceId is UNVERIFIED (409 would also be plausible).
                raise ApiError(400, f"An audience with externalAudienceId {spec.external_audience_id!r} already exists")
            audience_id = self._new_audience_id()
            self._audiences[audience_id] = Audience(
                audience_id,
                spec,
                spec.description,
                spec.ttl if spec.ttl is not None else MAX_TTL_DEFAULT,
                list(spec.audience_fees or []),
            )
            return {"audienceId": audience_id, "externalAudienceId": spec.external_audience_id}

    def get_audience(self, audience_id: int) -> dict[str, Any]:
        with self._lock:
            self._settle()
            return self._audience(audience_id).to_json()

    def update_audience(self, audience_id: int, update: AudienceUpdate) -> dict[str, Any]:
        with self._lock:
            self._settle()
            audience = self._audience(audience_id)
            if update.description is not None:
                audience.description = update.description
            if update.ttl is not None:
                audience.ttl = update.ttl
            if update.audience_fees is not None:
                audience.audience_fees = update.audience_fees
            return audience.to_json()

    def members(self, audience_id: int) -> frozenset[str]:
        with self._lock:
            self._settle()
            return frozenset(self._audience(audience_id).members)

    def _audience(self, audience_id: int) -> Audience:
        audience = self._audiences.get(audience_id)
        if audience is None:
            raise ApiError(404, f"Audience {audience_id} was not found")
        return audience

    def _new_audience_id(self) -> int:
        # 18 digits, > 2**53 and odd, so it is never exactly representable as a float: a client that
        # parses JSON numbers into floats sends back a different id and gets a 404.
        while True:
            candidate = self._rng.randrange(10**17, 10**18) | 1
            if candidate not in self._audiences:
                return candidate

    # ------------------------------------------------------------------ records and jobs

    def submit_records(self, request: RecordsInput) -> str:
        with self._lock:
            self.require_terms()
            self._settle()
            audience = self._audience(request.audience_id)
            connection: Connection | None = None
            if request.connection_id is not None:
                connection = self._connection(request.connection_id, "targetResource.connectionId")
            else:
                connection = next((c for c in self._connections.values() if c.is_default), None)
            dsp = audience.spec.advertiser_id is not None
            if "DSP" in request.target_types:
                if not dsp and (connection is None or "dspAdvertiserId" not in connection.fields):
                    raise ApiError(
                        400,
                        'targetTypes ["DSP"] needs a connection with a dspAdvertiserId '
                        "or an audience created with targetResource.advertiserId",
                    )
                dsp = True
            due = time.monotonic() + self.pending_seconds
            job = Job(str(self._uuid()), audience.audience_id, due, dsp, request.records, self.match_rate)
            self._jobs[job.job_id] = job
            self._pending.append(job)
            return job.job_id

    def job(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            self._settle()
            job = self._jobs.get(job_id)
            if job is None:
                raise ApiError(404, "The requested job was not found.")
            return job.to_json()

    def _settle(self) -> None:
        """Make every due job terminal and apply its valid records to the ledger, oldest first, once."""
        now = time.monotonic()
        while self._pending and self._pending[0].due <= now:
            job = self._pending.pop(0)
            audience = self._audiences[job.audience_id]
            valid = [r for r in job.records if r.error is None]
            for record in valid:
                if record.action == "CREATE":
                    audience.members[record.external_id] = Member(resolves(record, job.match_rate), job.dsp)
                else:
                    audience.members.pop(record.external_id, None)
            audience.received_records += len(job.records)
            job.state = "SUCCEEDED" if valid else "FAILED"

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self._rng.getrandbits(128), version=4)
