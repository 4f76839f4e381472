"""A Lambda context for running handlers outside Lambda: the demo's local poller, tests and benchmarks.

Powertools reads these four attributes when it injects the context into log lines.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LocalContext:
    function_name: str = "adsbridge-local"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
