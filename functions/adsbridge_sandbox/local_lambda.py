"""Running Lambda handlers outside Lambda: the demo's local poller and state machine, tests and benchmarks."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest.mock import patch


@dataclass(frozen=True)
class LocalContext:
    """The four attributes Powertools reads when it injects the context into log lines."""

    function_name: str = "adsbridge-local"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"


Dispatch = Callable[[str, dict[str, Any]], Any]


def load_handler(path: str) -> Callable[[dict[str, Any], Any], Any]:
    """``package.module.function`` (a Lambda handler setting) → the function."""
    module, _, name = path.rpartition(".")
    handler: Callable[[dict[str, Any], Any], Any] = getattr(importlib.import_module(module), name)
    return handler


@contextmanager
def lambdas_in_process(dispatch: Dispatch) -> Iterator[None]:
    """moto's Lambda (mocked or its server in this process) answers Invoke with ``dispatch(name, event)``.

    This is how moto's Step Functions runs the real ASL file with our handlers and no Docker: an exception
    becomes Lambda's function error (``x-amz-function-error`` + errorType/errorMessage), so Retry and Catch
    see what they would in AWS. moto's config is switched to Docker-free Lambda and executing state machines.
    """
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.core.config import default_user_config

    def invoke(self: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any) -> bytes:
        try:
            result = dispatch(function_name.rsplit(":", 1)[-1], json.loads(body))
        except Exception as exc:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
        return json.dumps(result).encode()

    config = {"lambda": {"use_docker": False}, "stepfunctions": {"execute_state_machine": True}}
    with patch.dict(default_user_config, config), patch.object(LambdaSimpleBackend, "invoke", invoke):
        yield
