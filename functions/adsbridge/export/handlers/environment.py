"""The variables the export handlers read (contract: ``adsbridge.lambda_environment``).

infra/export builds the functions' ``environment`` from these same models, so a name is written only here.
"""

from __future__ import annotations

from pydantic import Field, Json

from adsbridge.export.handlers import TASKS
from adsbridge.lambda_environment import LambdaEnvironment

NOTIFY_HANDLER = "adsbridge.export.handlers.notify.lambda_handler"  # after an execution, not a task: not in TASKS


class ExportEnvironment(LambdaEnvironment):
    """Every state-machine task: the state bucket (checkpoints, reports, schedule claims, audience registry)."""

    state_bucket: str = Field(alias="ADSBRIDGE_STATE_BUCKET")


class NotifyEnvironment(ExportEnvironment):
    """Notify also needs the alarm topics it publishes to (a JSON list of topic ARNs)."""

    alarm_topics: Json[list[str]] = Field(alias="ADSBRIDGE_ALARM_TOPICS")


MODELS: dict[str, type[LambdaEnvironment]] = {
    **dict.fromkeys(TASKS.values(), ExportEnvironment),
    NOTIFY_HANDLER: NotifyEnvironment,
}
"""Lambda handler → the model of its environment (tests/infra parses each synthesized function's with it)."""
