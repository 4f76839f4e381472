"""Pre-flight for an export: AMC terms, the connection, and the audience (created or checked).

Runs before any record leaves: a wrong audience id or missing terms fails here, naming the setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adsbridge.ads.audiences import AudiencesClient
from adsbridge.ads.errors import ApiError
from adsbridge.export.registry import AudienceKey, AudienceRegistry
from adsbridge.settings import ExportSettings

# amcAccountMarketplaceId by country (docs/amc-audiences-api.md#hosts-and-headers);
# whether the connection needs it is UNVERIFIED.
MARKETPLACE_IDS = {
    "US": "ATVPDKIKX0DER", "CA": "A2EUQ1WTGCTBG2", "MX": "A1AM78C64UM0Y8", "BR": "A2Q3Y263D00KWC",
    "DE": "A1PA6795UKMFR9", "ES": "A1RKKUPIHCS9HS", "FR": "A13V1IB3VIYZZH", "IT": "APJ6JRA9NG5V4",
    "NL": "A1805IZSGTT6HS", "SE": "A2NODRKZP88ZB9", "TR": "A33AVAJ2PDY3EV", "GB": "A1F83G8C2ARO7P",
    "SA": "A17E79C6D8DWNP", "AE": "A2VIGQ35RCS4UG", "AU": "A39IBJ37TRP1C6", "JP": "A1VC38T7YXB528",
    "IN": "A21TJRUUN4KGV",
}  # fmt: skip


class PrepareError(Exception):
    """The job cannot start; the message names the setting or the step to fix."""


@dataclass(frozen=True)
class Target:
    """Where records go: small and JSON-friendly so it can travel in Step Functions state."""

    audience_id: int
    connection_id: str
    to_dsp: bool
    reused: bool = False  # a CREATE job's audience recorded by an earlier run (``AudienceRegistry``)

    def target_resource(self) -> dict[str, Any]:
        resource: dict[str, Any] = {"connectionId": self.connection_id}
        if self.to_dsp:  # AMC is always included; DSP is opt-in per record batch
            resource["targetTypes"] = ["DSP"]
        return resource


def prepare(
    settings: ExportSettings,
    client: AudiencesClient,
    *,
    accept_terms: bool = False,
    registry: AudienceRegistry | None = None,
) -> Target:
    """Make sure terms, connection and audience are in place and return the upload target.

    With a ``registry``, a CREATE job creates its audience once and later runs reuse it (``_create_or_reuse``).
    """
    _ensure_terms(client, accept_terms)
    connection_id = _find_or_create_connection(settings, client)
    reused = False
    if settings.action == "CREATE":
        audience_id, reused = _create_or_reuse(settings, client, connection_id, registry)
    else:
        assert settings.audience_id is not None  # guaranteed by the settings model
        audience_id = settings.audience_id
        _check_and_update(settings, client, audience_id)
    to_dsp = settings.target == "AMC_AND_DSP"
    return Target(audience_id=audience_id, connection_id=connection_id, to_dsp=to_dsp, reused=reused)


def _create_or_reuse(
    settings: ExportSettings, client: AudiencesClient, connection_id: str, registry: AudienceRegistry | None
) -> tuple[int, bool]:
    """The audience an earlier run of this CREATE job recorded (checked, as UPDATE checks), else a new one.

    A new audience is recorded the moment Amazon returns its id, before any record is uploaded, so a run that
    fails midway still leaves the next run appending to it. When two first runs race, Amazon refuses the second
    one's external id; that run then finds the first one's record and uses it.
    """
    if registry is None:
        return client.create_audience(_create_body(settings, connection_id)), False
    key = AudienceKey.of(settings)
    recorded = registry.find(key)
    if recorded is None:
        try:
            created = client.create_audience(_create_body(settings, connection_id))
        except ApiError as exc:
            recorded = registry.find(key) if _duplicate(exc) else None
            if recorded is None:
                raise _refused(exc, key, registry) from None
        else:
            return _record(registry, key, created)
    _check_reused(settings, client, recorded, key, registry)
    registry.record(key, recorded)  # again: keeps the S3 record younger than the state bucket's expiry
    return recorded, True


def _record(registry: AudienceRegistry, key: AudienceKey, created: int) -> tuple[int, bool]:
    try:
        recorded = registry.record(key, created)
    except (OSError, ValueError) as exc:
        raise PrepareError(
            f"audience {created} was created but could not be recorded in {registry.location(key)} ({exc}): "
            f'run the job with "action": "UPDATE", "audience_id": {created}'
        ) from None
    # another first run recorded its audience in between (Amazon took the same external id twice): use that one
    return recorded, recorded != created


def _duplicate(exc: ApiError) -> bool:
    """Amazon's refusal of an externalAudienceId it already has (the emulator: 400 "... already exists";
    Amazon's status for it is UNVERIFIED, docs/ads-api-contract.json gives only the error body's message)."""
    return exc.status in (400, 409) and "already exist" in exc.api_message.lower()


def _refused(exc: ApiError, key: AudienceKey, registry: AudienceRegistry) -> Exception:
    if not _duplicate(exc):
        return exc
    return PrepareError(
        f"external_audience_id: Amazon already has an audience with external id {key.external_audience_id!r} "
        f'and none is recorded for it in {registry.location(key)}: run the job with "action": "UPDATE", '
        '"audience_id": <that audience\'s id> (shown in the report of the run that created it, and in Amazon Ads)'
    )


def _check_reused(
    settings: ExportSettings, client: AudiencesClient, audience_id: int, key: AudienceKey, registry: AudienceRegistry
) -> None:
    """The recorded audience must still exist and carry this job's external id; settings changed since are PUT."""
    where = registry.location(key)
    try:
        current = client.get_audience(audience_id)
    except ApiError as exc:
        if exc.status == 404:
            raise PrepareError(
                f"audience {audience_id}, recorded in {where} for external id {key.external_audience_id!r}, does "
                "not exist for this login: delete that record to create the audience again"
            ) from None
        raise
    external = (current.get("metadata") or {}).get("externalAudienceId")
    if external is not None and external != key.external_audience_id:
        raise PrepareError(
            f"audience {audience_id}, recorded in {where}, has another external id: delete that record to reset"
        )
    _check_and_update(settings, client, audience_id, current)


def _ensure_terms(client: AudiencesClient, accept: bool) -> None:
    terms = client.terms()
    if terms.get("hasAccepted"):
        return
    if not accept:
        raise PrepareError(
            "AMC terms are not accepted for this login: the user who authorised adsbridge must accept them "
            "(rerun with terms acceptance enabled to accept on their behalf)"
        )
    client.accept_terms(str(terms["agreementToken"]))


def _find_or_create_connection(settings: ExportSettings, client: AudiencesClient) -> str:
    """Reuse the connection for this AMC instance (and DSP advertiser when targeting DSP), else create it."""
    want_dsp = settings.dsp_advertiser_id if settings.target == "AMC_AND_DSP" else None
    candidates = [c for c in client.connections() if c.get("amcInstanceId") == settings.amc_instance_id]
    for connection in candidates:
        if (connection.get("dspAdvertiserId") or None) == want_dsp:
            return str(connection["connectionId"])
    if want_dsp is None and candidates:  # an AMC+DSP connection also serves AMC-only uploads
        return str(candidates[0]["connectionId"])
    body: dict[str, Any] = {"amcInstanceId": settings.amc_instance_id}
    if settings.amc_account_id:
        body["amcAccountId"] = settings.amc_account_id
        if settings.country_code in MARKETPLACE_IDS:
            body["amcAccountMarketplaceId"] = MARKETPLACE_IDS[settings.country_code]
    if want_dsp:
        body["dspAdvertiserId"] = want_dsp
    return client.create_connection(body)


def _metadata(settings: ExportSettings) -> dict[str, Any]:
    metadata: dict[str, Any] = {"ttl": settings.time_to_live}
    if settings.audience_fee is not None:
        metadata["audienceFees"] = [settings.audience_fee.to_api()]
    return metadata


def _create_body(settings: ExportSettings, connection_id: str) -> dict[str, Any]:
    return {
        "name": settings.audience_name,
        "description": settings.audience_description,
        "targetResource": {"connectionId": connection_id},
        "countryCode": settings.country_code,
        "metadata": {"externalAudienceId": settings.external_audience_id, **_metadata(settings)},
    }


def _check_and_update(
    settings: ExportSettings, client: AudiencesClient, audience_id: int, current: dict[str, Any] | None = None
) -> None:
    if current is None:
        try:
            current = client.get_audience(audience_id)
        except ApiError as exc:
            if exc.status == 404:
                raise PrepareError(f"audience_id: audience {audience_id} does not exist for this login") from None
            raise
    # Only what the job's settings give: a default (13-month TTL, empty description) must not overwrite what
    # the audience was created with.
    given = settings.model_fields_set
    update: dict[str, Any] = {}
    if "audience_description" in given and current.get("description", "") != settings.audience_description:
        update["description"] = settings.audience_description
    wanted = _metadata(settings)
    if "time_to_live" not in given:
        del wanted["ttl"]
    now = current.get("metadata") or {}
    changed = {name: value for name, value in wanted.items() if now.get(name) != value}
    if changed:
        update["metadata"] = changed
    if update:
        client.update_audience(audience_id, update)
