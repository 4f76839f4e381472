"""The AMC advertiser-audiences endpoints: terms, connections, metadata, records, job status.

Amazon's facts and their sources: docs/amc-audiences-api.md#endpoints.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adsbridge.ads.contract import AUDIENCES_TYPE, CONNECTIONS_TYPE, check_audience, check_records
from adsbridge.ads.session import AdsSession

# COMPLETED is in the spec's enum but undocumented; treating it as terminal is UNVERIFIED.
TERMINAL_STATES = frozenset({"SUCCEEDED", "PARTIALLYSUCCEEDED", "FAILED", "COMPLETED"})


@dataclass(frozen=True)
class JobStatus:
    """One records job as Amazon reports it; counts only, never record contents."""

    job_request_id: str
    state: str
    received: int = 0
    matched: int = 0
    dsp_audience_size: int = 0
    invalid: int = 0
    invalid_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    @classmethod
    def from_api(cls, job_request_id: str, body: Mapping[str, Any]) -> JobStatus:
        size = body.get("audienceSize") or {}
        invalid = body.get("invalidRecords") or []
        reasons: dict[str, int] = {}
        for item in invalid:
            reason = str(item.get("error", "unknown")) if isinstance(item, Mapping) else "unknown"
            reasons[reason] = reasons.get(reason, 0) + 1
        return cls(
            job_request_id=job_request_id,
            state=str(body.get("jobState", "UNKNOWN")),
            received=int(size.get("receivedRecordSize") or 0),
            matched=int(size.get("idResolutionCount") or 0),
            dsp_audience_size=int(size.get("dspAudienceSize") or 0),
            invalid=len(invalid),
            invalid_reasons=reasons,
        )


class AudiencesClient:
    """Thin, typed wrappers over the endpoints; retries and auth live in AdsSession."""

    def __init__(self, session: AdsSession) -> None:
        self.session = session

    # -- terms and connections -------------------------------------------------------------------------------
    def terms(self) -> dict[str, Any]:
        return dict(self.session.call("GET", "/amc/audiences/connections/terms", media_type=CONNECTIONS_TYPE))

    def accept_terms(self, agreement_token: str) -> None:
        self.session.call(
            "PATCH",
            "/amc/audiences/connections/terms",
            media_type=CONNECTIONS_TYPE,
            body={"agreementToken": agreement_token, "hasAccepted": True},
        )

    def connections(self) -> list[dict[str, Any]]:
        body = self.session.call("GET", "/amc/audiences/connections", media_type=CONNECTIONS_TYPE)
        return list(body.get("connections") or [])

    def create_connection(self, body: Mapping[str, Any]) -> str:
        return str(
            self.session.call("POST", "/amc/audiences/connections", media_type=CONNECTIONS_TYPE, body=body)[
                "connectionId"
            ]
        )

    # -- audience metadata -----------------------------------------------------------------------------------
    def create_audience(self, body: Mapping[str, Any]) -> int:
        """Create one audience; never re-sent once it may have reached Amazon.

        A re-send after a lost response would fail with "externalAudienceId ... already exists" and the id of
        the audience the first request created would never be recorded, so a read timeout or 5xx ends the
        call with a non-retryable error that says so (429, 401 and refused connections are still retried).
        A name or description outside the API model's limits raises ContractError before anything is sent.
        """
        check_audience(body)
        external_id = (body.get("metadata") or {}).get("externalAudienceId")
        response = self.session.call(
            "POST",
            "/amc/audiences/metadata",
            media_type=AUDIENCES_TYPE,
            body=body,
            idempotent=False,
            if_processed=f"the audience (externalAudienceId {external_id!r}) may have been created — look it up "
            "in Amazon Ads before re-running, or the re-run fails with 'already exists'",
        )
        return _audience_id(response["audienceId"])

    def get_audience(self, audience_id: int) -> dict[str, Any]:
        return dict(self.session.call("GET", f"/amc/audiences/metadata/{audience_id}", media_type=AUDIENCES_TYPE))

    def update_audience(self, audience_id: int, body: Mapping[str, Any]) -> None:
        self.session.call("PUT", f"/amc/audiences/metadata/{audience_id}", media_type=AUDIENCES_TYPE, body=body)

    # -- records and jobs ------------------------------------------------------------------------------------
    def upload_records(
        self, audience_id: int, encoded_records: Sequence[bytes], target_resource: Mapping[str, Any] | None
    ) -> str:
        """POST one batch of already JSON-encoded records; ``audienceId`` goes out as a JSON number.

        Retried after a read timeout or 5xx like an idempotent call, by choice: a batch is a list of CREATE /
        DELETE actions keyed by ``externalUserId`` (docs/amc-audiences-api.md#deletion): membership is a set of
        users, so applying the same batch twice leaves the same members as applying it once. The batch is
        re-sent before the next one goes out, so no later action is overtaken. The cost is quota (records
        count against the 15M/hour/connection guidance, docs/amc-audiences-api.md#limits) and, when the lost
        request was processed, one extra job whose ``jobRequestId`` is never recorded or polled. Refusing the
        retry would not avoid the duplicate anyway: the upload step fails, and Step Functions re-runs it from
        the last checkpoint, re-sending the same batch. A batch outside the API model (no records, over 10,000, a
        ``target_resource`` without ``connectionId``) raises ContractError before anything is sent.
        """
        check_records(len(encoded_records), target_resource)
        head: dict[str, Any] = {"audienceId": audience_id}
        if target_resource:
            head["targetResource"] = target_resource
        prefix = json.dumps(head, separators=(",", ":"))[:-1].encode()
        body = b"".join((prefix, b',"records":[', b",".join(encoded_records), b"]}"))
        response = self.session.call("POST", "/amc/audiences/records", media_type=AUDIENCES_TYPE, raw_body=body)
        return str(response["jobRequestId"])

    def job_status(self, job_request_id: str) -> JobStatus:
        body = self.session.call("GET", f"/amc/audiences/records/{job_request_id}", media_type=AUDIENCES_TYPE)
        return JobStatus.from_api(job_request_id, body)


def _audience_id(value: Any) -> int:
    """Audience ids are JSON numbers of up to 18 digits; refuse anything that is not an exact integer."""
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise ValueError("the API returned a non-integer audienceId")
    return int(value)
