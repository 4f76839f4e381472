"""View custom resource with a fake Athena: waits for each statement, fails the deployment on a failed one."""

from __future__ import annotations

from typing import Any

import pytest

from adsbridge.stream.athena import AthenaRunner, QueryFailed
from adsbridge.stream.view_installer import on_event


class FakeAthena:
    """Each query goes through ``states`` (one per poll); records what was started and where."""

    def __init__(self, *states: str, reason: str = "") -> None:
        self.states = list(states or ["SUCCEEDED"])
        self.reason = reason
        self.started: list[dict[str, Any]] = []

    def start_query_execution(self, **kwargs: Any) -> dict[str, str]:
        self.started.append(kwargs)
        return {"QueryExecutionId": f"q{len(self.started)}"}

    def get_query_execution(self, *, QueryExecutionId: str) -> dict[str, Any]:
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        status = {"State": state, **({"StateChangeReason": self.reason} if self.reason else {})}
        return {"QueryExecution": {"QueryExecutionId": QueryExecutionId, "Status": status}}


def runner(athena: FakeAthena, sleeps: list[float] | None = None) -> AthenaRunner:
    return AthenaRunner(athena, workgroup="wg", poll_seconds=0.5, sleep=(sleeps if sleeps is not None else []).append)


def event(
    request: str, view: str = "sp_traffic_dedup", sql: str = "CREATE OR REPLACE VIEW db.v AS SELECT 1"
) -> dict[str, Any]:
    return {"RequestType": request, "ResourceProperties": {"Database": "db", "View": view, "Sql": sql}}


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_run_the_view_sql_in_the_workgroup_and_wait(request_type: str) -> None:
    athena, sleeps = FakeAthena("QUEUED", "RUNNING", "SUCCEEDED"), []
    assert on_event(event(request_type), runner(athena, sleeps)) == {"PhysicalResourceId": "db.sp_traffic_dedup"}
    assert athena.started == [
        {
            "QueryString": "CREATE OR REPLACE VIEW db.v AS SELECT 1",
            "WorkGroup": "wg",
            "QueryExecutionContext": {"Database": "db"},
        }
    ]
    assert sleeps == [0.5, 0.5]


def test_delete_drops_the_view_if_it_exists() -> None:
    athena = FakeAthena()
    on_event(event("Delete"), runner(athena))
    assert [s["QueryString"] for s in athena.started] == ["DROP VIEW IF EXISTS db.sp_traffic_dedup"]


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED"])
def test_a_failed_statement_fails_the_resource_with_athenas_reason(state: str) -> None:
    athena = FakeAthena("RUNNING", state, reason="Table db.sp_traffic does not exist")
    with pytest.raises(QueryFailed, match=f"q1 {state}: Table db.sp_traffic does not exist"):
        on_event(event("Create"), runner(athena))


def test_names_outside_glue_syntax_never_reach_sql() -> None:
    athena = FakeAthena()
    with pytest.raises(ValueError, match="not a Glue"):
        on_event(event("Delete", view="v; DROP DATABASE db"), runner(athena))
    assert athena.started == []


def test_an_update_that_changes_only_the_sources_re_creates_the_view() -> None:
    """A table gained a column: same SQL, new ``Sources``; skipping it would leave the view stale in Athena."""
    athena = FakeAthena()
    update = event("Update")
    update["ResourceProperties"]["Sources"] = "new"
    update["OldResourceProperties"] = {**update["ResourceProperties"], "Sources": "old"}
    on_event(update, runner(athena))
    assert [s["QueryString"] for s in athena.started] == ["CREATE OR REPLACE VIEW db.v AS SELECT 1"]
