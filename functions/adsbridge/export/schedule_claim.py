"""Once per instant: the first execution a schedule starts for a scheduled time runs; later ones end quietly.

A Treasure Data cron restricting both day fields becomes two Scheduler schedules (``schedule.to_scheduler``),
and an instant both match starts two executions carrying the same ``scheduled_time``. TD runs such an instant
once (README, "`adsbridge.json`"), so each scheduled execution first claims ``schedules/<job>/<time>.json`` in
the state bucket with a conditional PUT; only the claim's owner goes on to the query. The objects expire with
the bucket's other run state.
"""

from __future__ import annotations

import json
from typing import Any

from adsbridge.export.checkpoint import _LOST_RACE

SCHEDULE_PREFIX = "schedules"
SCHEDULED_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:?[0-9]{2})$"  # Scheduler's ISO 8601


def schedule_key(job: str, scheduled_time: str) -> str:
    return f"{SCHEDULE_PREFIX}/{job}/{scheduled_time}.json"


def claim_scheduled_time(s3: Any, bucket: str, job: str, scheduled_time: str, execution: str) -> bool:
    """True when ``execution`` owns ``scheduled_time`` of ``job``: it wrote the claim, or wrote it before.

    The second case is a retried invocation whose first PUT landed but whose answer was lost: that execution
    is still the first for this time and must not end as a duplicate of itself.
    """
    key = schedule_key(job, scheduled_time)
    document = json.dumps({"execution": execution, "scheduled_time": scheduled_time}).encode()
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=document, ContentType="application/json", IfNoneMatch="*")
    except s3.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in _LOST_RACE:
            raise
    else:
        return True
    try:
        owner = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).get("execution")
    except s3.exceptions.NoSuchKey:
        return False  # a concurrent writer's PUT (409) not yet visible: it is the first, not us
    return bool(owner == execution)
