"""The export state machine in moto: the deployed ASL file, with Lambda functions whose Invoke runs our
handlers in this process (inside :func:`adsbridge_sandbox.local_lambda.lambdas_in_process`).

Used by the demo (moto's server) and the state-machine tests (``mock_aws``): both get the execution
semantics of the real definition (Map, Retry, Catch, Wait, Choice) without AWS or Docker.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.export.definition import MachineSettings, definition

from adsbridge.export.handlers import TASKS
from adsbridge_sandbox.local_lambda import LocalContext, load_handler

Client = Callable[[str], Any]  # service name -> boto3 client for moto


def run_task(task: str, event: dict[str, Any]) -> Any:
    """What Lambda does for an invocation of ``task``'s function: its handler on the event."""
    return load_handler(TASKS[task])(event, LocalContext(function_name=task))


def create_machine(client: Client, name: str, settings: MachineSettings) -> str:
    """A role, one function per task and the state machine from the ASL file, filled as ExportStack fills it."""
    role = client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = {"ZipFile": _placeholder_code()}  # never run: lambdas_in_process answers the invocations
    arns = {
        f"{task}FunctionArn": client("lambda").create_function(
            FunctionName=task, Runtime="python3.12", Role=role, Handler="handler.handler", Code=code
        )["FunctionArn"]
        for task in TASKS
    }
    asl = definition(**arns, **settings.substitutions())
    arn: str = client("stepfunctions").create_state_machine(name=name, definition=asl, roleArn=role)["stateMachineArn"]
    return arn


@dataclass(frozen=True)
class Execution:
    name: str
    status: str
    seconds: float


def execute(
    sfn: Any,
    machine_arn: str,
    name: str,
    execution_input: dict[str, Any],
    *,
    limit_seconds: float,
    on_poll: Callable[[], None] = lambda: None,
) -> Execution:
    """Start an execution and wait for its end; raises TimeoutError if it is still running after the limit."""
    started = time.monotonic()
    arn = sfn.start_execution(stateMachineArn=machine_arn, name=name, input=json.dumps(execution_input))["executionArn"]
    while (status := sfn.describe_execution(executionArn=arn)["status"]) == "RUNNING":
        if time.monotonic() - started > limit_seconds:
            raise TimeoutError(f"execution {name} still RUNNING after {limit_seconds:.0f}s")
        on_poll()
        time.sleep(0.05)
    return Execution(name, status, time.monotonic() - started)


def _placeholder_code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()
