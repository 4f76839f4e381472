"""The whole app from ``fixtures/adsbridge.json``: ids arrive exact, every alarm notifies, every start is kept."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from tests.infra.synthesized import CONFIG, Synthesized, synthesized

EXPORT = "AdsbridgeExport"
LONG_NUMBER = re.compile(r"\d{16,}")  # past 2**53 a JavaScript double no longer holds every integer


@pytest.fixture(scope="module")
def app() -> Synthesized:
    return synthesized()


def fixture_ids() -> set[str]:
    ids = set(LONG_NUMBER.findall(CONFIG.read_text()))
    assert {len(i) for i in ids} == {18, 19}, "the fixture must carry 18- and 19-digit ids"
    return ids


def test_every_id_reaches_the_templates_exactly(app: Synthesized) -> None:
    """CDK's JavaScript doubles round 361054992504331123 to 361054992504331140: a DELETE job on another audience."""
    found = {number for path in app.templates.values() for number in LONG_NUMBER.findall(path.read_text())}
    assert found == fixture_ids()


def _export_inputs(app: Synthesized) -> list[dict[str, Any]]:
    """The execution inputs of the export stack's rules (input transformer) and schedules, as JSON."""
    inputs = []
    rules = [rule for (stack, _), rule in app.resources("AWS::Events::Rule").items() if stack == EXPORT]
    for rule in rules:
        for target in rule["Properties"]["Targets"]:
            if "InputTransformer" not in target:
                continue  # the Notify rule passes Step Functions' event as it is
            template = app.resolve(EXPORT, target["InputTransformer"]["InputTemplate"])
            inputs.append(json.loads(re.sub(r"<[\w-]+>", '"placeholder"', template)))
    for schedule in app.resources("AWS::Scheduler::Schedule").values():
        inputs.append(json.loads(app.resolve(EXPORT, schedule["Properties"]["Target"]["Input"])))
    return inputs


def test_job_ids_travel_as_digit_strings(app: Synthesized) -> None:
    """A JSON number would be rounded again by any reader with doubles on the way (EventBridge, Step Functions)."""
    config = json.loads(CONFIG.read_text())["export"]
    inputs = {each["job"]["name"]: each["job"]["settings"] for each in _export_inputs(app)}
    assert set(inputs) == {job["name"] for job in config["jobs"]}
    for job in config["jobs"]:
        for key in ("audience_id", "dsp_advertiser_id", "amc_account_id"):
            if key in job["settings"]:
                assert inputs[job["name"]][key] == str(job["settings"][key])


def test_every_alarm_notifies_someone(app: Synthesized) -> None:
    alarms = app.resources("AWS::CloudWatch::Alarm")
    assert alarms
    silent = sorted(f"{stack}/{logical_id}" for (stack, logical_id), alarm in alarms.items()
                    if not alarm["Properties"].get("AlarmActions"))  # fmt: skip
    assert not silent, f"alarms without an action: {silent}"


def test_alarm_topics_let_cloudwatch_publish_for_this_account_only(app: Synthesized) -> None:
    """enforce_ssl's policy holds only the TLS deny, which refuses CloudWatch's sns:Publish unless allowed."""
    policies = app.resources("AWS::SNS::TopicPolicy")
    assert {stack for stack, _ in policies} == set(app.templates)
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(_allows_cloudwatch(s, "sns:Publish") for s in statements), statements
    keys = app.resources("AWS::KMS::Key")
    for key in keys.values():
        if "alarm" in key["Properties"].get("Description", ""):
            statements = key["Properties"]["KeyPolicy"]["Statement"]
            assert any(_allows_cloudwatch(s, "kms:GenerateDataKey*") for s in statements), statements


def _allows_cloudwatch(statement: dict[str, Any], action: str) -> bool:
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    return (
        statement["Effect"] == "Allow"
        and statement.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
        and action in actions
        and "aws:SourceAccount" in statement.get("Condition", {}).get("StringEquals", {})
    )


def test_job_starts_that_cannot_be_delivered_are_kept(app: Synthesized) -> None:
    """Without a dead-letter config a start EventBridge or Scheduler cannot deliver is dropped without a trace."""
    rules = {key: rule for key, rule in app.resources("AWS::Events::Rule").items() if key[0] == EXPORT}
    schedules = app.resources("AWS::Scheduler::Schedule")
    assert rules and schedules
    for rule in rules.values():
        for target in rule["Properties"]["Targets"]:
            assert "Arn" in target["DeadLetterConfig"]
    for schedule in schedules.values():
        assert "Arn" in schedule["Properties"]["Target"]["DeadLetterConfig"]


def test_service_trusts_name_this_account(app: Synthesized) -> None:
    """A service assumes an adsbridge role only on behalf of this account (the confused deputy). Lambda's execution
    roles are the exception: Lambda assumes them for the function itself, with no source to condition on."""
    unconditioned = []
    for (stack, logical_id), role in app.resources("AWS::IAM::Role").items():
        for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            service = statement.get("Principal", {}).get("Service")
            conditioned = "aws:SourceAccount" in json.dumps(statement.get("Condition", {}))
            if service and service != "lambda.amazonaws.com" and not conditioned:
                unconditioned.append(f"{stack}/{logical_id} ({service})")
    assert not unconditioned


def test_a_td_cron_restricting_both_days_becomes_two_schedules_in_its_zone(app: Synthesized) -> None:
    """The fixture's `0 6 1 * 1` (the 1st or a Monday): Scheduler cannot say "either" in one expression."""
    schedules = [
        schedule["Properties"]
        for schedule in app.resources("AWS::Scheduler::Schedule").values()
        if "monthly-and-mondays" in json.dumps(schedule["Properties"]["Target"]["Input"])
    ]
    assert sorted(schedule["ScheduleExpression"] for schedule in schedules) == [
        "cron(0 6 1 * ? *)",
        "cron(0 6 ? * MON *)",
    ]
    assert {schedule["ScheduleExpressionTimezone"] for schedule in schedules} == {"America/New_York"}
