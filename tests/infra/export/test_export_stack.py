"""ExportStack: nag-clean, buckets locked down, one rule per job, substitutions for the ASL file, scoped IAM."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from infra.app import build_app
from infra.export.config import ConfigError, parse_export_config
from infra.export.definition import placeholders
from infra.export.stack import build_export_stacks
from tests.infra.policies import XRAY_ACTIONS, wildcard_actions

ROOT = Path(__file__).resolve().parents[3]
MACHINE_WILDCARD_ACTIONS = {"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
                        "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                        "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
                        "xray:GetSamplingRules", "xray:GetSamplingTargets"}  # fmt: skip
SETTINGS = json.loads((ROOT / "samples/settings.json").read_text())


NIGHTLY = {"cron": "30 5 ? * MON-FRI *", "timezone": "Europe/Berlin", "query": "SELECT * FROM crm.targets",
           "database": "crm", "data_locations": ["s3://acme-lake/crm/"]}  # fmt: skip


def config(**changes: Any) -> dict[str, Any]:
    return {"jobs": [{"name": "crm", "settings": SETTINGS, "secret_name": "adsbridge/acct-1",
                      "trigger": {"prefix": "crm/"}},
                     {"name": "nightly", "settings": SETTINGS, "secret_name": "adsbridge/acct-1",
                      "trigger": {"schedule": NIGHTLY}}], **changes}  # fmt: skip


@pytest.fixture(scope="module")
def template() -> Template:
    [stack] = build_export_stacks(build_app(), parse_export_config(config(raw_retention_days=3)))
    return Template.from_stack(stack)  # raises on any unacknowledged cdk-nag finding


def test_stack_passes_nag_with_scoped_policies(template: Template) -> None:
    """Beyond X-Ray writes, only the state machine's log delivery and X-Ray sampling use "*" (no resource-level permissions)."""
    extra = wildcard_actions(template) - XRAY_ACTIONS
    assert extra == MACHINE_WILDCARD_ACTIONS


def test_input_bucket_is_locked_down_and_expires_raw_drops(template: Template) -> None:
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": True}},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
            "BucketEncryption": Match.any_value(),
            "LifecycleConfiguration": {"Rules": [{"ExpirationInDays": 3, "Prefix": "incoming/", "Status": "Enabled"},
                                                 {"ExpirationInDays": 3, "Prefix": "athena-results/",
                                                  "Status": "Enabled"}]},
        },
    )  # fmt: skip
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {"PolicyDocument": {"Statement": Match.array_with([Match.object_like(
            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])}},
    )  # fmt: skip
    for bucket in template.find_resources("AWS::S3::Bucket").values():
        assert "VersioningConfiguration" not in bucket["Properties"]


def test_rule_starts_the_state_machine_with_the_job_and_object(template: Template) -> None:
    rules = template.find_resources("AWS::Events::Rule", {"Properties": {"EventPattern": {"source": ["aws.s3"]}}})
    [rule] = rules.values()
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "incoming/crm/"}]
    [target] = rule["Properties"]["Targets"]
    assert "Ref" in target["Arn"] and "InputTransformer" in target
    text = json.dumps(target["InputTransformer"])
    assert "$.detail.object.key" in text and "adsbridge/acct-1" in text
    [permission] = template.find_resources("AWS::Lambda::Permission").values()  # no glue Lambda: Notify's only
    assert "Notify" in json.dumps(permission["Properties"]["FunctionName"])


def test_state_machine_substitutes_every_placeholder_of_the_asl_file(template: Template) -> None:
    [machine] = template.find_resources("AWS::StepFunctions::StateMachine").values()
    substitutions = machine["Properties"]["DefinitionSubstitutions"]
    assert set(substitutions) == placeholders()
    assert substitutions["MaxConcurrency"] == "4"
    assert machine["Properties"]["TracingConfiguration"] == {"Enabled": True}


def test_functions_get_only_their_prefixes_and_the_job_secret(template: Template) -> None:
    text = json.dumps(template.find_resources("AWS::IAM::Policy"))
    assert "adsbridge/acct-1-??????" in text
    for policy in template.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert "s3:*" not in statement["Action"] and statement["Action"] != "*"
    template.has_resource_properties("AWS::CloudWatch::Alarm", {"MetricName": "ExecutionsFailed", "Threshold": 1})


def test_checkpoint_readers_may_list_the_state_bucket_without_a_prefix_condition(template: Template) -> None:
    """A GET of a missing checkpoint is NoSuchKey only for a caller that may list the bucket, and a GET has no
    s3:prefix: a prefix-conditioned ListBucket would make every first run fail with AccessDenied."""
    listing = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "s3:ListBucket" and "State" in json.dumps(statement["Resource"])
    ]
    assert len(listing) == 6  # Prepare, UploadChunk, PollStatus, Report, ClaimSchedule, Notify
    assert all("Condition" not in statement for statement in listing)


def test_invalid_job_fails_naming_job_and_field() -> None:
    bad = config()
    bad["jobs"][0]["settings"] = {**SETTINGS, "max_wait_time": 5000}
    with pytest.raises(ConfigError, match=r"job 'crm': settings: max_wait_time"):
        parse_export_config(bad)


def test_schedule_starts_the_state_machine_in_its_time_zone_with_the_query(template: Template) -> None:
    [schedule] = template.find_resources("AWS::Scheduler::Schedule").values()
    properties = schedule["Properties"]
    assert properties["ScheduleExpression"] == "cron(30 5 ? * MON-FRI *)"
    assert properties["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert properties["Target"]["Arn"] == {"Ref": template_machine(template)}
    text = json.dumps(properties["Target"]["Input"])
    assert "SELECT * FROM crm.targets" in text and "athena-results/nightly/" in text and "source" not in text
    assert '\\"scheduled_time\\":\\"<aws.scheduler.scheduled-time>\\"' in text and '\\"delay_seconds\\":0' in text
    role = properties["Target"]["RoleArn"]["Fn::GetAtt"][0]
    [policy] = [p for p in template.find_resources("AWS::IAM::Policy").values()
                if p["Properties"]["Roles"] == [{"Ref": role}]]  # fmt: skip
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "states:StartExecution", "Effect": "Allow", "Resource": {"Ref": template_machine(template)}},
        {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": {"Fn::GetAtt": [dead_letters(template), "Arn"]}},
    ]
    assert properties["Target"]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dead_letters(template), "Arn"]}}
    trust = template.find_resources("AWS::IAM::Role")[role]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "scheduler.amazonaws.com"}


def test_state_machine_may_run_the_queries_and_read_only_their_data(template: Template) -> None:
    [machine] = template.find_resources("AWS::StepFunctions::StateMachine").values()
    assert set(machine["Properties"]["DefinitionSubstitutions"]) >= {"QueryPollSeconds", "QueryMaxPolls"}
    assert machine["Properties"]["DefinitionSubstitutions"]["QueryMaxPolls"] == "360"  # 60 minutes / 10 s
    text = json.dumps(template.find_resources("AWS::IAM::Policy"))
    for fragment in (":workgroup/primary", ":database/crm", ":table/crm/*", "s3:::acme-lake/crm/*",
                     "/athena-results/nightly/*"):  # fmt: skip
        assert fragment in text


def test_rule_role_is_for_this_accounts_rules_only(template: Template) -> None:
    [rule] = template.find_resources(
        "AWS::Events::Rule", {"Properties": {"EventPattern": {"source": ["aws.s3"]}}}
    ).values()
    [target] = rule["Properties"]["Targets"]
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dead_letters(template), "Arn"]}}
    role = template.find_resources("AWS::IAM::Role")[target["RoleArn"]["Fn::GetAtt"][0]]
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert ":rule/*" in json.dumps(trust["Condition"]["ArnLike"]["aws:SourceArn"])


def test_alarms_notify_the_configured_topics() -> None:
    topics = ["arn:aws:sns:eu-west-1:123456789012:ops", "arn:aws:sns:eu-west-1:123456789012:pager"]
    [stack] = build_export_stacks(build_app(), parse_export_config(config(alarm_topic_arns=topics)))
    template = Template.from_stack(stack)
    alarms = template.find_resources("AWS::CloudWatch::Alarm").values()
    assert len(alarms) == 2  # failed executions, undelivered starts
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == topics and alarm["Properties"]["OKActions"] == topics
    rule = template.to_json()["Rules"]["AlarmTopicRegion"]  # an alarm notifies only a topic in its own region
    assert "eu-west-1" in json.dumps(rule["Assertions"])


def test_without_an_alarm_target_the_topic_is_still_created_so_every_alarm_can_notify(template: Template) -> None:
    """The module template sets no alarm_email: alarms used to get no action at all, notifying no one."""
    [topic] = template.find_resources("AWS::SNS::Topic")
    assert not template.find_resources("AWS::SNS::Subscription")
    alarms = template.find_resources("AWS::CloudWatch::Alarm").values()
    assert len(alarms) == 2
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic}] == alarm["Properties"]["OKActions"]
    assert template.find_outputs("AlarmTopicArn")["AlarmTopicArn"]["Value"] == {"Ref": topic}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"alarm_email": "ops"}, "alarm_email"),
        ({"alarm_topic_arns": ["arn:aws:sns:eu-west-1:1234:ops"]}, "alarm_topic_arns"),
        ({"alarm_email": "ops@example.com", "alarm_topic_arns": ["arn:aws:sns:eu-west-1:123456789012:ops"]},
         "alternatives"),
        ({"alarm_topic_arns": ["arn:aws:sns:eu-west-1:123456789012:ops", "arn:aws:sns:us-east-1:123456789012:ops"]},
         "the topics must all be in the region"),
    ],
)  # fmt: skip
def test_bad_alarm_targets_fail_naming_the_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_export_config(config(**changes))


def dead_letters(template: Template) -> str:
    [logical_id] = [name for name in template.find_resources("AWS::SQS::Queue") if name.startswith("StartDeadLetters")]
    return str(logical_id)


def template_machine(template: Template) -> str:
    [logical_id] = template.find_resources("AWS::StepFunctions::StateMachine")
    return logical_id


@pytest.mark.parametrize(
    ("schedule", "message"),
    [({**NIGHTLY, "cron": "0 6 * *"}, r"job 'nightly': trigger.schedule.cron: '0 6 \* \*' is not a schedule"),
     ({**NIGHTLY, "cron": "@sometimes"}, r"job 'nightly': trigger.schedule.cron: '@sometimes' is not a schedule"),
     ({**NIGHTLY, "cron": "61 * * * *"}, r"job 'nightly': trigger.schedule.cron: minute: 61 is outside 0-59"),
     ({**NIGHTLY, "cron": "0 6 * * MON *"}, r"trigger.schedule.cron: .*exactly one of day-of-month and day-of-week"),
     ({**NIGHTLY, "delay_seconds": 86_401}, r"job 'nightly': trigger.schedule.delay_seconds"),
     ({**NIGHTLY, "delay_seconds": -1}, r"job 'nightly': trigger.schedule.delay_seconds"),
     ({**NIGHTLY, "timezone": "CET+1"}, r"job 'nightly': trigger.schedule.timezone: 'CET\+1' is not an IANA"),
     ({**NIGHTLY, "query": ""}, r"job 'nightly': trigger.schedule.query")],
)  # fmt: skip
def test_invalid_schedule_fails_naming_job_and_field(schedule: dict[str, Any], message: str) -> None:
    bad = config()
    bad["jobs"][1]["trigger"] = {"schedule": schedule}
    with pytest.raises(ConfigError, match=message):
        parse_export_config(bad)


@pytest.mark.parametrize("trigger", [{}, {"schedule": {**NIGHTLY, "cron": ""}}])
def test_a_job_needs_a_prefix_or_a_schedule(trigger: dict[str, Any]) -> None:
    """TD's empty cron is no schedule: such a job needs its S3 drop prefix."""
    bad = config()
    bad["jobs"][1]["trigger"] = trigger
    with pytest.raises(ConfigError, match=r"job 'nightly': trigger: needs a prefix, a schedule or both"):
        parse_export_config(bad)


@pytest.mark.parametrize(
    ("cron", "expressions"),
    [("0 0 * * *", ("cron(0 0 * * ? *)",)), ("@daily", ("cron(0 0 * * ? *)",)),
     ("30 */2 * * 0", ("cron(30 0/2 ? * SUN *)",)), ("0 0 1 * 1", ("cron(0 0 1 * ? *)", "cron(0 0 ? * MON *)")),
     ("cron(30 5 ? * MON-FRI *)", ("cron(30 5 ? * MON-FRI *)",)), ("rate(5 minutes)", ("rate(5 minutes)",)),
     ("", ())],
)  # fmt: skip
def test_treasure_data_crons_are_accepted(cron: str, expressions: tuple[str, ...]) -> None:
    good = config()
    good["jobs"][1]["trigger"] = {"prefix": "nightly/", "schedule": {**NIGHTLY, "cron": cron, "delay_seconds": 600}}
    schedule = parse_export_config(good).jobs[1].trigger.schedule
    assert schedule is not None and schedule.expressions == expressions and schedule.delay_seconds == 600


def test_a_cron_restricting_both_day_fields_is_two_schedules_started_alike() -> None:
    """TD runs 0 0 1 * 1 on the 1st and on Mondays: one schedule each, same zone, queue and input; the first
    keeps the id a one-expression schedule has, so a deployed job is updated, not replaced."""
    both = config()
    both["jobs"][1]["trigger"] = {"schedule": {**NIGHTLY, "cron": "0 0 1 * 1", "timezone": "Asia/Tokyo",
                                               "delay_seconds": 90}}  # fmt: skip
    [stack] = build_export_stacks(build_app(), parse_export_config(both))
    template = Template.from_stack(stack)
    schedules = template.find_resources("AWS::Scheduler::Schedule")
    assert len(schedules) == 2
    [first] = [name for name in schedules if name.startswith("Schedulenightly") and "nightly2" not in name]
    assert schedules[first]["Properties"]["ScheduleExpression"] == "cron(0 0 1 * ? *)"
    assert sorted(s["Properties"]["ScheduleExpression"] for s in schedules.values()) == [
        "cron(0 0 1 * ? *)", "cron(0 0 ? * MON *)"]  # fmt: skip
    for schedule in schedules.values():
        properties = schedule["Properties"]
        assert properties["ScheduleExpressionTimezone"] == "Asia/Tokyo"
        assert properties["Target"]["Arn"] == {"Ref": template_machine(template)}
        assert properties["Target"]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dead_letters(template), "Arn"]}}
        text = json.dumps(properties["Target"]["Input"])
        assert "SELECT * FROM crm.targets" in text and "<aws.scheduler.scheduled-time>" in text
        assert '\\"delay_seconds\\":90' in text


def test_the_schedule_claim_may_touch_only_schedules(template: Template) -> None:
    [role] = [name for name in template.find_resources("AWS::IAM::Role") if name.startswith("ClaimSchedule")]
    [statements] = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in template.find_resources("AWS::IAM::Policy").values()
        if role in json.dumps(p["Properties"]["Roles"])
    ]
    objects = [s for s in statements if any(a.startswith("s3:") and a != "s3:ListBucket"
                                            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))]  # fmt: skip
    assert [s["Action"] for s in objects] == [["s3:GetObject", "s3:PutObject"]]
    assert json.dumps(objects[0]["Resource"]).endswith('/schedules/*"]]}')
    assert "secretsmanager" not in json.dumps(statements)


def test_prepare_and_upload_chunk_may_run_fifteen_minutes(template: Template) -> None:
    """Prepare reads a whole CSV to cut chunks outside quoted fields; UploadChunk paces a chunk's batches."""
    timeouts = {
        f["Properties"]["Handler"].split(".")[-2]: f["Properties"]["Timeout"]
        for f in template.find_resources("AWS::Lambda::Function").values()
        if "adsbridge.export.handlers" in f["Properties"].get("Handler", "")
    }
    assert timeouts == {
        "prepare": 900,
        "upload_chunk": 900,
        "poll_status": 120,
        "report": 120,
        "claim_schedule": 120,
        "notify": 120,
    }


def test_prepare_may_read_reports_to_take_over_an_ended_runs_claim(template: Template) -> None:
    [prepare_role] = [
        name for name, role in template.find_resources("AWS::IAM::Role").items() if name.startswith("Prepare")
    ]
    [policy] = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in template.find_resources("AWS::IAM::Policy").values()
        if json.dumps(p["Properties"]["Roles"]).count(prepare_role)
    ]
    reads = [s for s in policy if s["Action"] == "s3:GetObject" and "/reports/*" in json.dumps(s["Resource"])]
    assert len(reads) == 1


def test_prepare_may_ask_whether_a_runs_owner_still_runs(template: Template) -> None:
    """An execution stopped by hand writes no report; Prepare asks Step Functions about that machine's executions."""
    [machine] = template.find_resources("AWS::StepFunctions::StateMachine").values()
    name = machine["Properties"]["StateMachineName"]
    statements = [
        s
        for p in template.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "states:DescribeExecution"
    ]
    assert len(statements) == 1 and f":execution:{name}:*" in json.dumps(statements[0]["Resource"])


def test_the_audience_registry_outlives_checkpoints_and_reports(template: Template) -> None:
    """A repeated CREATE finds its audience under audiences/: a rule expiring the whole bucket lost it after
    state_retention_days, and the next run failed asking for an UPDATE."""
    buckets = template.find_resources("AWS::S3::Bucket")
    [state] = [b for name, b in buckets.items() if name.startswith("State")]
    rules = state["Properties"]["LifecycleConfiguration"]["Rules"]
    assert sorted(rule["Prefix"] for rule in rules) == ["checkpoints/", "reports/", "schedules/"]
    policies = json.dumps(template.find_resources("AWS::IAM::Policy"))
    assert "/audiences/*" in policies


def test_a_finished_execution_of_this_machine_invokes_notify_with_a_dead_letter_queue(template: Template) -> None:
    rules = template.find_resources("AWS::Events::Rule", {"Properties": {"EventPattern": {"source": ["aws.states"]}}})
    [rule] = rules.values()
    [machine] = template.find_resources("AWS::StepFunctions::StateMachine")
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"stateMachineArn": [{"Ref": machine}], "status": ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]},
    }
    [target] = rule["Properties"]["Targets"]
    [notify] = [
        logical_id
        for logical_id, fn in template.find_resources("AWS::Lambda::Function").items()
        if fn["Properties"]["Handler"] == "adsbridge.export.handlers.notify.lambda_handler"
    ]
    assert target["Arn"] == {"Fn::GetAtt": [notify, "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    [queue] = [q for q in template.find_resources("AWS::SQS::Queue") if q.startswith("NotifyDeadLetters")]
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue, "Arn"]}}
    environment = template.find_resources("AWS::Lambda::Function")[notify]["Properties"]["Environment"]["Variables"]
    [topic] = template.find_resources("AWS::SNS::Topic")
    assert topic in json.dumps(environment["ADSBRIDGE_ALARM_TOPICS"]) and "ADSBRIDGE_STATE_BUCKET" in environment


def test_notify_may_read_and_write_reports_read_checkpoints_and_publish_to_the_topic(template: Template) -> None:
    [policy] = [p for name, p in template.find_resources("AWS::IAM::Policy").items() if name.startswith("NotifyRole")]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    granted = {json.dumps(s["Resource"], sort_keys=True): s["Action"] for s in statements}
    [topic] = template.find_resources("AWS::SNS::Topic")
    [key] = template.find_resources("AWS::KMS::Key")
    assert granted[json.dumps({"Ref": topic})] == "sns:Publish"
    assert set(granted[json.dumps({"Fn::GetAtt": [key, "Arn"]}, sort_keys=True)]) == {
        "kms:Decrypt",
        "kms:GenerateDataKey*",
    }
    by_prefix = {prefix: actions for resource, actions in granted.items() for prefix in ("/reports/*", "/checkpoints/*")
                 if prefix in resource}  # fmt: skip
    assert set(by_prefix["/reports/*"]) == {"s3:GetObject", "s3:PutObject"}
    assert by_prefix["/checkpoints/*"] == "s3:GetObject"
    assert all("registry" not in resource and "schedules" not in resource for resource in granted)


def test_notify_publishes_to_the_operators_topics() -> None:
    topics = ["arn:aws:sns:eu-west-1:123456789012:ops", "arn:aws:sns:eu-west-1:123456789012:pager"]
    [stack] = build_export_stacks(build_app(), parse_export_config(config(alarm_topic_arns=topics)))
    template = Template.from_stack(stack)
    published = [
        s["Resource"]
        for name, p in template.find_resources("AWS::IAM::Policy").items()
        if name.startswith("NotifyRole")
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "sns:Publish"
    ]
    assert sorted(published) == topics


def test_notify_travels_in_the_execution_input_and_accepts_only_failure_or_always() -> None:
    jobs = config()["jobs"]
    parsed = parse_export_config(config(jobs=[{**jobs[0], "notify": "always"}, jobs[1]]))
    assert [job.spec().notify for job in parsed.jobs] == ["always", "failure"]
    with pytest.raises(ConfigError, match=r"job 'crm': notify: .*'failure' or 'always'"):
        parse_export_config(config(jobs=[{**jobs[0], "notify": "never"}]))
