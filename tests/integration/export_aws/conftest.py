"""The export state machine in moto: the real ASL file, Lambda tasks answered by the real handlers in-process
(``adsbridge_sandbox.local_lambda.lambdas_in_process``), so Retry/Catch see Lambda's own function errors.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from infra.export.definition import MachineSettings
from moto import mock_aws

from adsbridge.ads import RetryPolicy
from adsbridge.export.handlers import runtime
from adsbridge.export.steps import Services
from adsbridge_sandbox.emulator import Emulator
from adsbridge_sandbox.local_lambda import lambdas_in_process
from adsbridge_sandbox.local_machine import create_machine, execute, run_task

REGION = "us-east-1"
INPUT_BUCKET = "adsbridge-test-input"
STATE_BUCKET = "adsbridge-test-state"
SECRET = "adsbridge/test-account"
QUERY_PREFIX = "athena-results/crm/"
RUN_LIMIT_SECONDS = 120  # an execution still RUNNING after this is a hang: TimeoutError instead of waiting


@dataclass
class Invocations:
    """Every handler call (function, event), the injected crashes: (function, predicate on the event), and what
    happens before a call: (function, its nth call counted from 1, action), e.g. the input replaced."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    crash: list[tuple[str, Callable[[dict[str, Any]], bool]]] = field(default_factory=list)
    before: list[tuple[str, int, Callable[[], None]]] = field(default_factory=list)

    def __call__(self, name: str, event: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((name, event))
        for function, nth, action in self.before:
            if function == name and nth == self.count(name):
                action()
        for function, predicate in list(self.crash):
            if function == name and predicate(event):
                self.crash.remove((function, predicate))
                raise RuntimeError("simulated Lambda crash")
        return run_task(name, event)

    def count(self, name: str) -> int:
        return sum(1 for called, _ in self.calls if called == name)


@dataclass
class ExportMachine:
    sfn: Any
    s3: Any
    arn: str
    emulator: Emulator
    invocations: Invocations

    def put_input(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=INPUT_BUCKET, Key=key, Body=body)

    def run(self, key: str, settings: dict[str, Any], **job: Any) -> tuple[str, dict[str, Any]]:
        """Start an execution as the S3 rule does, wait for its end; returns (status, the report JSON it wrote)."""
        return self.execute({"source": {"bucket": INPUT_BUCKET, "key": key}}, settings, **job)

    def run_query(self, sql: str, settings: dict[str, Any], **job: Any) -> tuple[str, dict[str, Any]]:
        """Start an execution as the job's schedule does: the Athena query's result is the source."""
        query = {"sql": sql, "database": "crm", "workgroup": "primary", "bucket": INPUT_BUCKET, "prefix": QUERY_PREFIX}
        return self.execute({"query": query}, settings, **job)

    def execute(self, start: dict[str, Any], settings: dict[str, Any], **job: Any) -> tuple[str, dict[str, Any]]:
        execution_input = {"job": {"name": "crm", "settings": settings, "secret_name": SECRET, **job}, **start}
        name = f"run-{len(self.invocations.calls)}-{random.randrange(10**9)}"  # moto leaves $$.Execution.Name unset without one
        execution = execute(self.sfn, self.arn, name, execution_input, limit_seconds=RUN_LIMIT_SECONDS)
        body = self.s3.get_object(Bucket=STATE_BUCKET, Key=f"reports/crm/{name}.json")["Body"].read()
        return execution.status, json.loads(body)

    def records_posts(self) -> int:
        return sum(1 for r in self.emulator.request_log() if r.method == "POST" and r.path == "/amc/audiences/records")


@pytest.fixture
def machine_config() -> dict[str, int]:
    """Machine settings a test may override with ``@pytest.mark.parametrize("machine_config", [...])``."""
    return {}


@pytest.fixture
def export_machine(
    machine_config: dict[str, int], emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ExportMachine]:
    settings = MachineSettings(**{"max_concurrency": 2, "poll_interval_seconds": 0, "query_poll_seconds": 0,
                                  "query_max_polls": 3, "ads_retry_seconds": 1, **machine_config})  # fmt: skip
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION, "ADSBRIDGE_API_URL": emulator.url,
                        "ADSBRIDGE_TOKEN_URL": emulator.token_url}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    for name in ("ADSBRIDGE_CLIENT_ID", "ADSBRIDGE_CLIENT_SECRET", "ADSBRIDGE_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)  # credentials must come from the secret
    invocations = Invocations()

    with mock_aws(), lambdas_in_process(invocations):
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in (INPUT_BUCKET, STATE_BUCKET):
            s3.create_bucket(Bucket=bucket)
        secrets = boto3.client("secretsmanager", region_name=REGION)
        c = emulator.credentials
        secrets.create_secret(
            Name=SECRET,
            SecretString=json.dumps(
                {"client_id": c.client_id, "client_secret": c.client_secret, "refresh_token": c.refresh_token}
            ),
        )
        services = Services(
            s3=s3,
            state_bucket=STATE_BUCKET,
            ads=runtime.ads_clients(secrets, RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02)),
            sleep=lambda _: None,
            executions=boto3.client("stepfunctions", region_name=REGION),
        )
        monkeypatch.setattr(runtime, "services", lambda: services)
        arn = create_machine(lambda service: boto3.client(service, region_name=REGION), "export", settings)
        yield ExportMachine(boto3.client("stepfunctions", region_name=REGION), s3, arn, emulator, invocations)
