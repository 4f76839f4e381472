"""The deployed export stack as ``adsbridge jobs`` sees it: its state machine, buckets, jobs and executions.

How the parts are found (README, "Deploying to AWS"):

- CloudFormation's ``ListStackResources`` on the stack (``AdsbridgeExport`` unless named) gives the state
  machine (its one ``AWS::StepFunctions::StateMachine``) and the buckets, by the logical ids CDK gives the
  constructs ``State`` and ``Input`` (the construct id and an 8-hex hash of its path).
- The jobs are what starts that state machine: EventBridge rules found by ``ListRuleNamesByTarget`` on its ARN
  and Scheduler schedules whose target is its ARN (``ListSchedules`` names each schedule's target). This does not
  depend on how many schedules a job's cron became, nor on their generated names, and works where CloudFormation
  lists no schedule (moto's does not create ``AWS::Scheduler::Schedule``).

The execution input of a job is the target's own: the rule's input transformer applied to an S3 event for
the object, or the schedule's input with Scheduler's context attributes filled, so a run started by hand is
the run its trigger would have started.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from adsbridge.export.report import report_key

DEFAULT_STACK = "AdsbridgeExport"
BUCKET_IDS = {"state": re.compile(r"^State[0-9A-F]{8}$"), "input": re.compile(r"^Input[0-9A-F]{8}$")}
MAX_SCANNED = 1000  # executions read at most by ``executions`` while looking for one job's


class DeployedError(RuntimeError):
    """AWS refused or could not be reached, or the stack is not what ``adsbridge jobs`` expects; one line."""


Client = Callable[[str], Any]  # service name -> boto3 client


@dataclass(frozen=True)
class Drop:
    """An EventBridge rule that starts the job for objects under ``prefix`` (``incoming/<job prefix>``)."""

    rule: str
    state: str
    bucket: str
    prefix: str
    transformer: dict[str, Any]

    def execution_input(self, key: str) -> dict[str, Any]:
        event = {"detail": {"bucket": {"name": self.bucket}, "object": {"key": key}}}
        values = {name: _path(event, path) for name, path in self.transformer.get("InputPathsMap", {}).items()}
        return dict(json.loads(fill(self.transformer["InputTemplate"], values)))


@dataclass(frozen=True)
class Scheduled:
    """A Scheduler schedule that starts the job; ``input`` is its target's, context attributes unfilled."""

    name: str
    group: str
    arn: str
    state: str
    expression: str
    timezone: str
    input: str

    def execution_input(self, now: datetime) -> dict[str, Any]:
        """The input with Scheduler's context attributes as a start at ``now`` would fill them: the scheduled
        time in ISO 8601 UTC, a fresh execution id, the first attempt, this schedule's ARN."""
        values = {
            "aws.scheduler.scheduled-time": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "aws.scheduler.execution-id": str(uuid.uuid4()),
            "aws.scheduler.attempt-number": "1",
            "aws.scheduler.schedule-arn": self.arn,
        }
        return dict(json.loads(fill(self.input, values)))


@dataclass
class Job:
    name: str
    spec: dict[str, Any]
    drops: list[Drop] = field(default_factory=list)
    schedules: list[Scheduled] = field(default_factory=list)

    def query(self) -> dict[str, Any] | None:
        for schedule in self.schedules:
            query = json.loads(fill(schedule.input, {})).get("query")
            if isinstance(query, dict):
                return query
        return None


@dataclass(frozen=True)
class Stack:
    name: str
    machine_arn: str
    state_bucket: str | None
    input_bucket: str | None

    def report_location(self, job: str, execution: str) -> str | None:
        return f"s3://{self.state_bucket}/{report_key(job, execution)}" if self.state_bucket else None


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|<([A-Za-z0-9_.-]+)>')
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.-]+)>")


def fill(template: str, values: dict[str, Any]) -> str:
    """``template`` with its ``<name>`` placeholders replaced as EventBridge's input transformer and Scheduler's
    context attributes replace them: a placeholder inside a JSON string takes the value's text, escaped; one
    outside takes the value as JSON. A placeholder without a value becomes ``""`` outside a string, so that
    the template still parses when only its fixed parts are read."""

    def token(match: re.Match[str]) -> str:
        if match[1] is None:
            return _PLACEHOLDER.sub(lambda p: _inner(values[p[1]]) if p[1] in values else p[0], match[0])
        return json.dumps(values[match[1]]) if match[1] in values else '""'

    return _TOKENS.sub(token, template)


def _inner(value: Any) -> str:
    return json.dumps(value if isinstance(value, str) else json.dumps(value))[1:-1]


def _path(event: dict[str, Any], path: str) -> Any:
    value: Any = event
    for key in path.removeprefix("$.").split("."):
        value = value[key]
    return value


class Deployed:
    """Read-only views of the stack, and ``start``: the only call that changes anything."""

    def __init__(self, stack: Stack, client: Client) -> None:
        self.stack = stack
        self._client = client

    @classmethod
    def find(cls, name: str, client: Client) -> Deployed:
        resources = list(_listing("CloudFormation ListStackResources", client("cloudformation"),
                                  "list_stack_resources", "StackResourceSummaries", StackName=name))  # fmt: skip
        machines = [
            r["PhysicalResourceId"] for r in resources if r.get("ResourceType") == "AWS::StepFunctions::StateMachine"
        ]
        if len(machines) != 1:
            raise DeployedError(f"stack {name} has {len(machines)} state machines, not the export stack's one")
        buckets = {
            kind: next((r["PhysicalResourceId"] for r in resources if r.get("ResourceType") == "AWS::S3::Bucket"
                        and pattern.match(r.get("LogicalResourceId", ""))), None)
            for kind, pattern in BUCKET_IDS.items()
        }  # fmt: skip
        return cls(Stack(name, machines[0], buckets["state"], buckets["input"]), client)

    def jobs(self) -> list[Job]:
        jobs: dict[str, Job] = {}
        for spec, drop in self._drops():
            jobs.setdefault(spec["name"], Job(spec["name"], spec)).drops.append(drop)
        for spec, schedule in self._schedules():
            jobs.setdefault(spec["name"], Job(spec["name"], spec)).schedules.append(schedule)
        return sorted(jobs.values(), key=lambda job: job.name)

    def _drops(self) -> Iterator[tuple[dict[str, Any], Drop]]:
        events = self._client("events")
        names = list(_listing("EventBridge ListRuleNamesByTarget", events, "list_rule_names_by_target",
                              "RuleNames", TargetArn=self.stack.machine_arn))  # fmt: skip
        for rule in names:
            described = _call("EventBridge DescribeRule", events.describe_rule, Name=rule)
            targets = _call("EventBridge ListTargetsByRule", events.list_targets_by_rule, Rule=rule)["Targets"]
            pattern = json.loads(described.get("EventPattern") or "{}")
            detail = pattern.get("detail", {})
            for target in targets:
                transformer = target.get("InputTransformer")
                if target["Arn"] != self.stack.machine_arn or not transformer:
                    continue
                drop = Drop(rule, described.get("State", "?"), _first(detail.get("bucket", {}).get("name")),
                            _prefix(detail.get("object", {}).get("key")), transformer)  # fmt: skip
                spec = json.loads(fill(transformer["InputTemplate"], {})).get("job", {})
                yield spec, drop

    def _schedules(self) -> Iterator[tuple[dict[str, Any], Scheduled]]:
        scheduler = self._client("scheduler")
        summaries = list(_listing("Scheduler ListSchedules", scheduler, "list_schedules", "Schedules"))
        for summary in summaries:
            if summary.get("Target", {}).get("Arn") != self.stack.machine_arn:
                continue
            got = _call("Scheduler GetSchedule", scheduler.get_schedule, Name=summary["Name"],
                        GroupName=summary.get("GroupName", "default"))  # fmt: skip
            schedule = Scheduled(got["Name"], got.get("GroupName", "default"), got["Arn"], got.get("State", "?"),
                                 got.get("ScheduleExpression", ""), got.get("ScheduleExpressionTimezone", "UTC"),
                                 got["Target"].get("Input", "{}"))  # fmt: skip
            yield json.loads(fill(schedule.input, {})).get("job", {}), schedule

    def start(self, name: str, execution_input: dict[str, Any]) -> str:
        """Start an execution named ``name`` with ``execution_input``; its ARN."""
        sfn = self._client("stepfunctions")
        started = _call("Step Functions StartExecution", sfn.start_execution, stateMachineArn=self.stack.machine_arn,
                        name=name, input=json.dumps(execution_input))  # fmt: skip
        return str(started["executionArn"])

    def object_exists(self, bucket: str, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client("s3").head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise DeployedError(f"S3 HeadObject s3://{bucket}/{key}: {exc}") from None
        return True

    def executions(self, job: str | None, count: int) -> list[dict[str, Any]]:
        """The newest ``count`` executions (of ``job``, if named), newest first, each with its report if any."""
        sfn = self._client("stepfunctions")
        found: list[dict[str, Any]] = []
        listed = _listing("Step Functions ListExecutions", sfn, "list_executions", "executions",
                          stateMachineArn=self.stack.machine_arn)  # fmt: skip
        for scanned, execution in enumerate(listed):
            if len(found) == count or scanned == MAX_SCANNED:
                break
            described = _call("Step Functions DescribeExecution", sfn.describe_execution,
                              executionArn=execution["executionArn"])  # fmt: skip
            name = _job_name(described.get("input"))
            if job is None or name == job:
                found.append({**execution, "job": name, "report": self.report(name, execution["name"])})
        return found

    def report(self, job: str | None, execution: str) -> dict[str, Any] | None:
        if job is None or not self.stack.state_bucket:
            return None
        from botocore.exceptions import ClientError

        try:
            body = self._client("s3").get_object(Bucket=self.stack.state_bucket, Key=report_key(job, execution))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return None
            raise DeployedError(f"S3 GetObject {self.stack.report_location(job, execution)}: {exc}") from None
        return dict(json.loads(body["Body"].read()))


def _job_name(execution_input: str | None) -> str | None:
    try:
        name = json.loads(execution_input or "{}").get("job", {}).get("name")
    except (ValueError, AttributeError):
        return None
    return name if isinstance(name, str) else None


def _first(values: Any) -> str:
    return str(values[0]) if isinstance(values, list) and values and isinstance(values[0], str) else ""


def _prefix(values: Any) -> str:
    if isinstance(values, list) and values and isinstance(values[0], dict):
        return str(values[0].get("prefix", ""))
    return ""


def _listing(operation: str, client: Any, method: str, key: str, **kwargs: Any) -> Iterator[Any]:
    """A listing read page by page (``NextToken``) as it is consumed; its errors are ``DeployedError``."""
    from botocore.exceptions import BotoCoreError, ClientError

    token: str | None = None
    try:
        while True:
            page = getattr(client, method)(**kwargs, **({"NextToken": token} if token else {}))
            yield from page.get(key, [])
            token = page.get("NextToken")
            if not token:
                return
    except (BotoCoreError, ClientError) as exc:
        raise DeployedError(f"{operation}: {exc}") from None


def _call(operation: str, method: Callable[..., Any], **kwargs: Any) -> Any:
    """One AWS call; its errors become one ``DeployedError`` naming the call."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return method(**kwargs)
    except (BotoCoreError, ClientError) as exc:
        raise DeployedError(f"{operation}: {exc}") from None
