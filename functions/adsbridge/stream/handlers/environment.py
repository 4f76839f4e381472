"""The variables each stream handler reads, one model per handler (contract: ``adsbridge.lambda_environment``).

infra/stream builds the functions' ``environment`` from these same models, so a name is written only here.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Json

from adsbridge.ads import Owner
from adsbridge.lambda_environment import LambdaEnvironment
from adsbridge.stream.datasets import Realm


def _absent_if_empty(text: Any) -> Any:
    """An empty JSON-list variable means none (a v2-only monitor has ``OWNERS`` unset or empty)."""
    return text or "[]"


class OwnerEntry(BaseModel):
    """One ``OWNERS`` entry: ``{"id": "...", "dsp": false}``; an id given as a JSON number keeps its digits."""

    model_config = ConfigDict(frozen=True, coerce_numbers_to_str=True)

    id: str
    dsp: bool = False

    def owner(self) -> Owner:
        return Owner(self.id, dsp=self.dsp)


class IngestEnvironment(LambdaEnvironment):
    """``adsbridge.stream.handlers.ingest``: the raw bucket, the realm, and the queue name prefix
    (queue name = prefix + dataset id)."""

    bucket: str = Field(alias="BUCKET")
    realm: Realm = Field(alias="REALM")
    queue_prefix: str = Field(alias="QUEUE_PREFIX")


class SecretEnvironment(LambdaEnvironment):
    """The subscription custom resources (v1 and v2): the Secrets Manager secret with the LwA credentials."""

    secret_name: str = Field(alias="SECRET_NAME")


class MonitorEnvironment(SecretEnvironment):
    """``adsbridge.stream.handlers.subscription_monitor``: whose v1 subscriptions (``OWNERS``) and which v2
    advertiser accounts (``V2_ACCOUNTS``, JSON list of ids) to count in ``REALM``; each may be absent."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    realm: Realm = Field(alias="REALM")
    owners: Annotated[Json[list[OwnerEntry]], BeforeValidator(_absent_if_empty)] = Field(
        default_factory=list, alias="OWNERS"
    )
    v2_accounts: Annotated[Json[list[str]], BeforeValidator(_absent_if_empty)] = Field(
        default_factory=list, alias="V2_ACCOUNTS"
    )


class ViewInstallerEnvironment(LambdaEnvironment):
    """``adsbridge.stream.handlers.view_installer``: the Athena workgroup the view DDL runs in."""

    workgroup: str = Field(alias="WORKGROUP")


class V2CatalogEnvironment(LambdaEnvironment):
    """``adsbridge.stream.handlers.v2_catalog``: the Glue database holding one table per Stream v2 dataset."""

    database: str = Field(alias="DATABASE")


MODELS: dict[str, type[LambdaEnvironment]] = {
    "adsbridge.stream.handlers.ingest.lambda_handler": IngestEnvironment,
    "adsbridge.stream.handlers.subscription_resource.lambda_handler": SecretEnvironment,
    "adsbridge.stream.handlers.v2_subscription_resource.lambda_handler": SecretEnvironment,
    "adsbridge.stream.handlers.subscription_monitor.lambda_handler": MonitorEnvironment,
    "adsbridge.stream.handlers.view_installer.lambda_handler": ViewInstallerEnvironment,
    "adsbridge.stream.handlers.v2_catalog.lambda_handler": V2CatalogEnvironment,
}
"""Lambda handler → the model of its environment (tests/infra parses each synthesized function's with it)."""
