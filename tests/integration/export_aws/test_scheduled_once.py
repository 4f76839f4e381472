"""Once per instant in moto's Step Functions with the real ASL: a TD cron restricting both day fields is two
Scheduler schedules, and an instant both match starts two executions with one ``scheduled_time``. The first
runs the query and the export; the second ends quietly (no query, no upload, no report). TD's delay execution
waits ``delay_seconds`` after the claim, before the query.
"""

from __future__ import annotations

import json
import random
from typing import Any

from tests.integration.export_aws.conftest import INPUT_BUCKET, QUERY_PREFIX, RUN_LIMIT_SECONDS, SECRET, ExportMachine
from tests.integration.export_aws.test_scheduled_query import SQL, queue_result
from tests.integration.export_aws.test_state_machine import SAMPLE, settings

from adsbridge_sandbox.local_machine import Execution, execute

MONDAY_THE_FIRST = "2026-06-01T00:00:00Z"  # 0 0 1 * 1: both of its schedules fire at this instant


def scheduled(machine: ExportMachine, scheduled_time: str, delay_seconds: int = 0) -> Execution:
    """Start an execution as one of the job's schedules does (its input has the scheduled time and delay)."""
    query = {"sql": SQL, "database": "crm", "workgroup": "primary", "bucket": INPUT_BUCKET, "prefix": QUERY_PREFIX}
    start = {
        "job": {"name": "crm", "settings": settings(), "secret_name": SECRET},
        "query": query,
        "scheduled_time": scheduled_time,
        "delay_seconds": delay_seconds,
    }
    name = f"scheduled-{random.randrange(10**9)}"
    return execute(machine.sfn, machine.arn, name, start, limit_seconds=RUN_LIMIT_SECONDS)


def report(machine: ExportMachine, execution: Execution) -> dict[str, Any] | None:
    try:
        body = machine.s3.get_object(Bucket="adsbridge-test-state", Key=f"reports/crm/{execution.name}.json")
    except machine.s3.exceptions.NoSuchKey:
        return None
    return dict(json.loads(body["Body"].read()))


def states_entered(machine: ExportMachine, execution: Execution) -> list[str]:
    arn = machine.arn.replace(":stateMachine:", ":execution:") + f":{execution.name}"
    events = machine.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def test_two_schedules_firing_at_one_instant_run_the_job_once(export_machine: ExportMachine) -> None:
    queue_result(SAMPLE)
    first = scheduled(export_machine, MONDAY_THE_FIRST)
    posts = export_machine.records_posts()
    second = scheduled(export_machine, MONDAY_THE_FIRST)
    assert (first.status, second.status) == ("SUCCEEDED", "SUCCEEDED")
    first_report = report(export_machine, first)
    assert first_report is not None and first_report["uploaded_records"] == 18
    assert report(export_machine, second) is None
    assert posts > 0 and export_machine.records_posts() == posts  # the second uploaded nothing
    assert export_machine.invocations.count("Prepare") == 1 and export_machine.invocations.count("ClaimSchedule") == 2
    assert "AlreadyRunForThisTime" in states_entered(export_machine, second)
    assert "StartQuery" not in states_entered(export_machine, second)
    claim = export_machine.s3.get_object(Bucket="adsbridge-test-state", Key=f"schedules/crm/{MONDAY_THE_FIRST}.json")
    assert json.loads(claim["Body"].read())["execution"] == first.name


def test_another_instant_runs_again(export_machine: ExportMachine) -> None:
    queue_result(SAMPLE)
    assert scheduled(export_machine, "2026-06-01T00:00:00Z").status == "SUCCEEDED"
    queue_result(SAMPLE)
    assert scheduled(export_machine, "2026-06-08T00:00:00Z").status == "SUCCEEDED"
    assert export_machine.invocations.count("Prepare") == 2


def test_a_delay_waits_before_the_query(export_machine: ExportMachine) -> None:
    queue_result(SAMPLE)
    delayed = scheduled(export_machine, "2026-06-02T00:00:00Z", delay_seconds=1)
    assert delayed.status == "SUCCEEDED" and delayed.seconds >= 1
    entered = states_entered(export_machine, delayed)
    assert entered.index("ClaimScheduledTime") < entered.index("DelayExecution") < entered.index("StartQuery")
    queue_result(SAMPLE)
    undelayed = scheduled(export_machine, "2026-06-03T00:00:00Z", delay_seconds=0)
    assert undelayed.status == "SUCCEEDED" and "DelayExecution" not in states_entered(export_machine, undelayed)
