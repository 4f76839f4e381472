"""CloudFormation custom resource (behind ``custom_resources.Provider``) that keeps one Athena view in step.

Create/Update run the view's ``CREATE OR REPLACE VIEW`` and wait for it, so a failed statement fails the
deployment and the next view in the chain only starts once the one it selects from exists. Delete runs
``DROP VIEW IF EXISTS`` (harmless in a rollback of a view that was never created).

Environment: ``WORKGROUP`` (the stack's Athena workgroup, which holds the result location).
Resource properties: ``Database``, ``View``, ``Sql`` (from ``adsbridge.stream.views``), and ``Sources``, which
is not read here: it changes with the columns of the tables the view reads, so CloudFormation sends an Update
that re-creates the view even when its SQL is unchanged (a view Athena would otherwise report stale).
"""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools import Logger

from adsbridge.stream.athena import AthenaRunner

logger = Logger()
_NAME = re.compile(r"^[a-z0-9_]+$")  # Glue names; anything else is not ours and is never put into SQL


def on_event(event: dict[str, Any], runner: AthenaRunner) -> dict[str, Any]:
    props = event["ResourceProperties"]
    database, view = props["Database"], props["View"]
    if not (_NAME.match(database) and _NAME.match(view)):
        raise ValueError(f"not a Glue database/view name: {database}.{view}")
    if event["RequestType"] == "Delete":
        runner.run(f"DROP VIEW IF EXISTS {database}.{view}", database=database)
    else:
        runner.run(props["Sql"], database=database)
    # A new view name means a new physical id, so CloudFormation deletes the old view after the update.
    return {"PhysicalResourceId": f"{database}.{view}"}
