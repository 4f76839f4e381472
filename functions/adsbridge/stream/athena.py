"""Run one Athena statement to completion: ``StartQueryExecution`` only queues it, so callers that must know
the outcome (a view that later views select from) poll ``GetQueryExecution`` until it ends."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")


class QueryFailed(RuntimeError):
    """Athena ended the query in FAILED or CANCELLED; the message carries Athena's reason."""


class AthenaRunner:
    def __init__(
        self,
        client: Any,
        *,
        workgroup: str,
        poll_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._workgroup = workgroup
        self._poll_seconds = poll_seconds
        self._sleep = sleep

    def run(self, sql: str, *, database: str) -> str:
        """The query execution id once Athena reports SUCCEEDED; raises ``QueryFailed`` otherwise.

        No deadline of its own: the Lambda timeout bounds the wait, and a timed-out custom resource fails.
        """
        query_id = str(
            self._client.start_query_execution(
                QueryString=sql, WorkGroup=self._workgroup, QueryExecutionContext={"Database": database}
            )["QueryExecutionId"]
        )
        while True:
            status = self._client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
            if status["State"] in TERMINAL:
                break
            self._sleep(self._poll_seconds)
        if status["State"] != "SUCCEEDED":
            reason = status.get("StateChangeReason", "no reason given")
            raise QueryFailed(f"Athena query {query_id} {status['State']}: {reason}")
        return query_id
