"""``adsbridge jobs run`` fills a rule's input template and a schedule's input as EventBridge and Scheduler do."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from adsbridge.export.deployed import Drop, Scheduled, fill
from adsbridge.export.payloads import JobSpec
from adsbridge.export.trigger import SOURCE_PATHS, execution_input, job_input

JOB = JobSpec(name="crm", settings={"action": "CREATE", "audience_id": "361054992504331123"}, secret_name="s")


def test_a_placeholder_outside_a_string_takes_the_value_as_json() -> None:
    assert json.loads(fill('{"key":<k>,"n":<n>}', {"k": 'a "b"\\c', "n": 3})) == {"key": 'a "b"\\c', "n": 3}


def test_a_placeholder_inside_a_string_takes_the_text_escaped() -> None:
    filled = fill('{"at":"<t> and <t>","keep":"<unknown>"}', {"t": 'x"y'})
    assert json.loads(filled) == {"at": 'x"y and x"y', "keep": "<unknown>"}


def test_a_placeholder_without_a_value_leaves_the_template_readable() -> None:
    assert json.loads(fill('{"job":{"name":"crm"},"source":{"key":<k>}}', {})) == {
        "job": {"name": "crm"}, "source": {"key": ""}}  # fmt: skip


def test_a_drop_gives_what_the_rule_gives_for_that_object() -> None:
    template = json.dumps({"job": job_input(JOB), "source": {"bucket": "@b@", "key": "@k@"}}, separators=(",", ":"))
    template = template.replace('"@b@"', "<detail-bucket-name>").replace('"@k@"', "<detail-object-key>")
    paths = {"detail-bucket-name": SOURCE_PATHS["bucket"], "detail-object-key": SOURCE_PATHS["key"]}
    drop = Drop("rule", "ENABLED", "in", "incoming/crm/", {"InputPathsMap": paths, "InputTemplate": template})
    key = "incoming/crm/a b+c.csv"
    event = {"detail": {"bucket": {"name": "in"}, "object": {"key": key}}}
    assert drop.execution_input(key) == execution_input(JOB, event)


def test_a_schedule_is_started_at_now_in_utc() -> None:
    scheduled = Scheduled("s", "default", "arn:aws:scheduler:us-east-1:1:schedule/default/s", "ENABLED",
                          "cron(0 0 * * ? *)", "UTC",
                          json.dumps({"job": job_input(JOB), "scheduled_time": "<aws.scheduler.scheduled-time>",
                                      "schedule": "<aws.scheduler.schedule-arn>"}))  # fmt: skip
    berlin = datetime(2026, 3, 29, 3, 30, 15, 999, tzinfo=timezone(timedelta(hours=2)))
    started = scheduled.execution_input(berlin)
    assert started["scheduled_time"] == "2026-03-29T01:30:15Z"
    assert datetime.fromisoformat(started["scheduled_time"]) == berlin.astimezone(UTC).replace(microsecond=0)
    assert started["schedule"] == scheduled.arn and started["job"] == job_input(JOB)
