"""``adsbridge jobs list | run | status`` against a stack in moto, built as ExportStack deploys it.

CloudFormation holds the state machine (``<stack>-export``, the real ASL) and the buckets under the logical
ids CDK gives them; the S3-drop job's EventBridge rule and the scheduled job's Scheduler schedule are made
through their APIs (moto's CloudFormation does not create schedules) with the input shapes ExportStack gives
them (``adsbridge.export.trigger``). Executions run the real handlers in-process, against the emulator.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from infra.export.definition import MachineSettings
from moto import mock_aws
from tests.integration.export_aws.conftest import REGION, SECRET, Invocations
from tests.integration.export_aws.test_scheduled_query import queue_result
from tests.integration.export_aws.test_state_machine import SAMPLE, settings

from adsbridge.ads import RetryPolicy
from adsbridge.cli import main
from adsbridge.export.handlers import runtime
from adsbridge.export.payloads import JobSpec
from adsbridge.export.steps import Services
from adsbridge.export.trigger import SOURCE_PATHS, execution_input, job_input, object_created_pattern
from adsbridge_sandbox.emulator import Emulator
from adsbridge_sandbox.local_lambda import lambdas_in_process
from adsbridge_sandbox.local_machine import create_machine

STACK = "AdsbridgeExport"
INPUT = "adsbridge-jobs-input"
STATE = "adsbridge-jobs-state"
ROLE = "arn:aws:iam::123456789012:role/adsbridge-test"
DROP = JobSpec(name="crm", settings=settings(), secret_name=SECRET)
NIGHTLY = JobSpec(name="nightly", settings=settings(), secret_name=SECRET)
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


@dataclass
class Deployment:
    sfn: Any
    s3: Any
    machine_arn: str
    schedule_input: dict[str, Any]

    def wait(self, arn: str) -> str:
        deadline = time.monotonic() + 120
        while (status := str(self.sfn.describe_execution(executionArn=arn)["status"])) == "RUNNING":
            assert time.monotonic() < deadline, f"{arn} still RUNNING"
            time.sleep(0.05)
        return status


def rule_template(job: JobSpec) -> str:
    """The input template CDK renders for ``ExportStack._rule``: the job, then the event's fields unquoted."""
    placeholders = {name: f"@{name}@" for name in SOURCE_PATHS}
    text = json.dumps({"job": job_input(job), "source": placeholders}, separators=(",", ":"))
    for name, path in SOURCE_PATHS.items():
        text = text.replace(f'"@{name}@"', f"<{path.removeprefix('$.').replace('.', '-')}>")
    return text


def deploy(client: Any, arn_of_export: str) -> tuple[str, dict[str, Any]]:
    """The stack's resources: CloudFormation for the machine and buckets, then the rule and the schedule."""
    definition = client("stepfunctions").describe_state_machine(stateMachineArn=arn_of_export)["definition"]
    template = {"Resources": {
        "State1C20CC9A": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": STATE}},
        "Input49F21B70": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": INPUT}},
        "AccessLogs8B620ECA": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "Machine6FC8AE80": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "StateMachineName": f"{STACK}-export", "DefinitionString": definition, "RoleArn": ROLE}},
    }}  # fmt: skip
    client("cloudformation").create_stack(StackName=STACK, TemplateBody=json.dumps(template))
    # moto's CloudFormation puts the machine in a backend its Step Functions API (the ASL interpreter) does not
    # read: the same machine under the same name, through the API, is the one the executions run on
    machine = str(client("stepfunctions").create_state_machine(
        name=f"{STACK}-export", definition=definition, roleArn=ROLE)["stateMachineArn"])  # fmt: skip
    events = client("events")
    pattern = object_created_pattern(INPUT, "crm/")
    events.put_rule(Name=f"{STACK}-Jobcrm1A2B3C4D-XYZ", EventPattern=json.dumps(pattern), State="ENABLED")
    paths = {path.removeprefix("$.").replace(".", "-"): path for path in SOURCE_PATHS.values()}
    events.put_targets(Rule=f"{STACK}-Jobcrm1A2B3C4D-XYZ", Targets=[{
        "Id": "Target0", "Arn": machine, "RoleArn": ROLE,
        "InputTransformer": {"InputPathsMap": paths, "InputTemplate": rule_template(DROP)}}])  # fmt: skip
    schedule_input = {"job": job_input(NIGHTLY), "query": {"sql": "SELECT * FROM crm.targets", "database": "crm",
                      "workgroup": "primary", "bucket": INPUT, "prefix": "athena-results/nightly/"},
                      "scheduled_time": SCHEDULED_TIME, "delay_seconds": 0}  # fmt: skip
    client("scheduler").create_schedule(
        Name=f"{STACK}-Schedulenightly1EDA2924-ABC", ScheduleExpression="cron(30 5 ? * MON-FRI *)",
        ScheduleExpressionTimezone="Europe/Berlin", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": machine, "RoleArn": ROLE, "Input": json.dumps(schedule_input)},
    )  # fmt: skip
    # something else in the account that starts another machine: not a job of this stack
    client("scheduler").create_schedule(
        Name="unrelated", ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": arn_of_export, "RoleArn": ROLE, "Input": "{}"},
    )  # fmt: skip
    return machine, schedule_input


@pytest.fixture
def deployment(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION, "ADSBRIDGE_API_URL": emulator.url,
                        "ADSBRIDGE_TOKEN_URL": emulator.token_url}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    for name in ("ADSBRIDGE_CLIENT_ID", "ADSBRIDGE_CLIENT_SECRET", "ADSBRIDGE_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    machine_settings = MachineSettings(max_concurrency=2, poll_interval_seconds=0, query_poll_seconds=0,
                                       query_max_polls=3, ads_retry_seconds=1)  # fmt: skip
    with mock_aws(), lambdas_in_process(Invocations()):

        def client(service: str) -> Any:
            return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]

        secrets = client("secretsmanager")
        c = emulator.credentials
        secrets.create_secret(Name=SECRET, SecretString=json.dumps(
            {"client_id": c.client_id, "client_secret": c.client_secret, "refresh_token": c.refresh_token}))  # fmt: skip
        machine, schedule_input = deploy(client, create_machine(client, "export", machine_settings))
        services = Services(s3=client("s3"), state_bucket=STATE, sleep=lambda _: None, executions=client("stepfunctions"),
                            ads=runtime.ads_clients(secrets, RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02)))  # fmt: skip
        monkeypatch.setattr(runtime, "services", lambda: services)
        yield Deployment(client("stepfunctions"), client("s3"), machine, schedule_input)


LAMBDA_LOGS = ('{"level":', '{"_aws":')  # what the in-process handlers print (Powertools logs, EMF metrics)


def jobs(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``adsbridge jobs …``: exit code, stdout without the in-process Lambdas' log lines, stderr."""
    capsys.readouterr()
    code = main(["jobs", *args])
    out, err = capsys.readouterr()
    return code, "".join(line for line in out.splitlines(keepends=True) if not line.startswith(LAMBDA_LOGS)), err


def test_list_names_each_job_with_its_trigger(deployment: Deployment, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = jobs(capsys, "list", "--json")
    assert code == 0, err
    listed = json.loads(out)
    assert (listed["state_machine"], listed["state_bucket"], listed["input_bucket"]) == (
        deployment.machine_arn, STATE, INPUT)  # fmt: skip
    crm, nightly = listed["jobs"]
    assert crm["name"] == "crm" and crm["job"] == job_input(DROP) and crm["schedules"] == []
    assert crm["drops"] == [{"rule": f"{STACK}-Jobcrm1A2B3C4D-XYZ", "state": "ENABLED", "bucket": INPUT,
                             "prefix": "incoming/crm/"}]  # fmt: skip
    assert nightly["name"] == "nightly" and nightly["drops"] == []
    [schedule] = nightly["schedules"]
    assert (schedule["expression"], schedule["timezone"]) == ("cron(30 5 ? * MON-FRI *)", "Europe/Berlin")
    assert nightly["query"]["sql"] == "SELECT * FROM crm.targets"
    code, text, _ = jobs(capsys, "list")
    assert code == 0
    assert f"S3 drop: objects under s3://{INPUT}/incoming/crm/" in text
    assert "schedule: cron(30 5 ? * MON-FRI *) in Europe/Berlin" in text and "unrelated" not in text


def test_run_a_drop_job_starts_the_rules_input_and_status_reads_its_report(
    deployment: Deployment, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "incoming/crm/customers.csv"
    deployment.s3.put_object(Bucket=INPUT, Key=key, Body=SAMPLE)
    code, out, err = jobs(capsys, "run", "crm", "--key", key, "--json")
    assert code == 0, err
    started = json.loads(out)
    event = {"detail": {"bucket": {"name": INPUT}, "object": {"key": key}}}
    assert started["input"] == execution_input(DROP, event)  # exactly what the rule would start
    described = deployment.sfn.describe_execution(executionArn=started["execution_arn"])
    assert json.loads(described["input"]) == execution_input(DROP, event)
    assert deployment.wait(started["execution_arn"]) == "SUCCEEDED"

    code, out, err = jobs(capsys, "status", "crm", "--json")
    assert code == 0, err
    [row] = json.loads(out)
    report = row["report"]
    assert (row["job"], row["status"], row["execution_name"]) == ("crm", "SUCCEEDED", started["execution_name"])
    assert report["location"] == started["report"] == f"s3://{STATE}/reports/crm/{started['execution_name']}.json"
    assert (report["total_records"], report["uploaded_records"], report["skipped_records"]) == (26, 18, 8)
    assert len(emulator.audience_members(report["audience_id"])) == 18
    code, text, _ = jobs(capsys, "status")
    assert code == 0 and "crm  SUCCEEDED" in text and "26 records, 18 uploaded, 8 skipped" in text


def test_run_a_scheduled_job_sends_the_schedules_input_at_the_current_time(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    queue_result(SAMPLE)
    before = datetime.now(UTC).replace(microsecond=0)
    code, out, err = jobs(capsys, "run", "nightly", "--json")
    after = datetime.now(UTC)
    assert code == 0, err
    started = json.loads(out)
    sent = json.loads(deployment.sfn.describe_execution(executionArn=started["execution_arn"])["input"])
    scheduled = sent.pop("scheduled_time")
    assert scheduled.endswith("Z") and before <= datetime.fromisoformat(scheduled) <= after
    assert sent == {key: value for key, value in deployment.schedule_input.items() if key != "scheduled_time"}
    deployment.wait(started["execution_arn"])
    code, out, _ = jobs(capsys, "status", "--count", "1", "--json")
    assert code == 0 and [row["job"] for row in json.loads(out)] == ["nightly"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["run", "crm"], "job crm starts on S3 drops: give --key, an object under s3://adsbridge-jobs-input/incoming/crm/"),
        (["run", "crm", "--key", "incoming/other/x.csv"], "is not under job crm's prefix (incoming/crm/)"),
        (["run", "crm", "--key", "incoming/crm/missing.csv"], "--key: no object s3://adsbridge-jobs-input/incoming/crm/missing.csv"),
        (["run", "nope"], "no job 'nope' in stack AdsbridgeExport (jobs: crm, nightly)"),
        (["run", "nightly", "--key", "incoming/crm/x.csv"], "is not under job nightly's prefix (nothing: it has no S3 drop)"),
        (["status", "--count", "0"], "--count must be between 1 and 1000"),
    ],
)  # fmt: skip
def test_what_cannot_run_is_refused_in_one_line(
    deployment: Deployment, capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    code, out, err = jobs(capsys, *args)
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1 and said in err
    assert deployment.sfn.list_executions(stateMachineArn=deployment.machine_arn)["executions"] == []


def test_a_stack_that_is_not_there_is_one_line(deployment: Deployment, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = jobs(capsys, "list", "--stack", "Elsewhere")
    assert (code, out) == (1, "")
    [line] = err.strip().splitlines()
    assert line.startswith("adsbridge jobs list: CloudFormation ListStackResources: ") and "Elsewhere" in line


def test_status_is_newest_first_and_counted(deployment: Deployment, capsys: pytest.CaptureFixture[str]) -> None:
    names = []
    for key in ("incoming/crm/first.csv", "incoming/crm/second.csv"):
        deployment.s3.put_object(Bucket=INPUT, Key=key, Body=SAMPLE)
        code, out, err = jobs(capsys, "run", "crm", "--key", key, "--json")
        assert code == 0, err
        started = json.loads(out)
        deployment.wait(started["execution_arn"])
        names.append(started["execution_name"])
    code, out, _ = jobs(capsys, "status", "crm", "--json")
    assert code == 0 and [row["execution_name"] for row in json.loads(out)] == names[::-1]
    code, out, _ = jobs(capsys, "status", "--count", "1", "--json")
    assert code == 0 and [row["execution_name"] for row in json.loads(out)] == names[-1:]
    code, out, _ = jobs(capsys, "status", "nightly")
    assert (code, out) == (0, "no executions of nightly\n")
