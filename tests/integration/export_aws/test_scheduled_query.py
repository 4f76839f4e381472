"""A scheduled run in moto: the real ASL starts the Athena query, polls it, then exports its result CSV.

moto does not run SQL: a queued result (``set_athena_result``) is what the next query "returns", written as CSV
to ``<OutputLocation><QueryExecutionId>.csv`` as Athena does; the state machine reads it from there.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from moto.athena.models import AthenaBackend, Execution
from moto.moto_api import state_manager
from moto.moto_api._internal.models import moto_api_backend
from tests.integration.export_aws.conftest import QUERY_PREFIX, REGION, ExportMachine
from tests.integration.export_aws.test_state_machine import SAMPLE, SKIPS, settings

SQL = "SELECT * FROM crm.customers_to_target"


def queue_result(data: bytes) -> None:
    """The next query's result: the sample CSV as Athena result rows, header row first."""
    rows = [{"Data": [{"VarCharValue": value} if value else {} for value in row]}
            for row in csv.reader(io.StringIO(data.decode()))]  # fmt: skip
    moto_api_backend.set_athena_result(rows, [], account_id="123456789012", region=REGION)


@pytest.fixture
def stuck_queries() -> Iterator[None]:
    """Athena executions that stay QUEUED however often they are checked."""
    state_manager.set_transition("athena::execution", {"progression": "manual", "times": 10**6})
    yield
    state_manager.unset_transition("athena::execution")


def test_scheduled_query_result_is_exported(export_machine: ExportMachine) -> None:
    queue_result(SAMPLE)
    status, report = export_machine.run_query(SQL, settings(), chunk_bytes=700)
    assert status == "SUCCEEDED", report["reason"]
    assert report["status"] == "SUCCEEDED"
    assert report["source"]["key"].startswith(QUERY_PREFIX) and report["source"]["key"].endswith(".csv")
    assert report["total_records"] == 26 and report["skipped_by_reason"] == SKIPS
    assert len(export_machine.emulator.audience_members(report["audience_id"])) == report["uploaded_records"] == 18


@pytest.mark.usefixtures("stuck_queries")
def test_a_query_that_never_finishes_ends_in_a_failure_report(export_machine: ExportMachine) -> None:
    status, report = export_machine.run_query(SQL, settings())
    assert (status, report["status"]) == ("FAILED", "FAILED")
    assert report["reason"] == "AthenaQueryTimedOut: the query was still QUEUED after 3 status checks"
    assert export_machine.invocations.count("Prepare") == 0 and export_machine.records_posts() == 0


def test_a_failed_query_ends_in_a_failure_report(
    export_machine: ExportMachine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failed(self: AthenaBackend, exec_id: str) -> Execution:
        execution = self.executions[exec_id]
        execution.status = "FAILED"
        return execution

    monkeypatch.setattr(AthenaBackend, "get_query_execution", failed)
    status, report = export_machine.run_query(SQL, settings())
    assert (status, report["status"]) == ("FAILED", "FAILED")
    assert report["reason"].startswith("AthenaQueryFailed: the query ended FAILED; its reason is on query execution ")
    assert report["total_records"] == 0 and export_machine.invocations.count("Prepare") == 0
