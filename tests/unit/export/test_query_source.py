"""``adsbridge export --query``'s Athena adapter with a scripted client: reasons, result location, interruption."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from adsbridge.export.query_source import QueryFailed, result_location

ARGS = argparse.Namespace(query="SELECT 1", database="crm", workgroup="analysts", output_location="s3://r/q/")


class Athena:
    def __init__(self, *states: dict[str, Any]) -> None:
        self.states = list(states)
        self.started: dict[str, Any] = {}
        self.stopped: list[str] = []

    def start_query_execution(self, **request: Any) -> dict[str, Any]:
        self.started = request
        return {"QueryExecutionId": "q-1"}

    def get_query_execution(self, QueryExecutionId: str) -> dict[str, Any]:
        state = self.states.pop(0)
        if isinstance(state, BaseException):
            raise state
        return {"QueryExecution": {"QueryExecutionId": QueryExecutionId, **state}}

    def stop_query_execution(self, QueryExecutionId: str) -> None:
        self.stopped.append(QueryExecutionId)


def test_the_result_file_athena_names_is_the_input() -> None:
    athena = Athena({"Status": {"State": "RUNNING"}},
                    {"Status": {"State": "SUCCEEDED"}, "ResultConfiguration": {"OutputLocation": "s3://r/q/q-1.csv"}})  # fmt: skip
    sleeps: list[float] = []
    assert result_location(ARGS, athena, sleeps.append) == "s3://r/q/q-1.csv"
    assert athena.started == {"QueryString": "SELECT 1", "QueryExecutionContext": {"Database": "crm"},
                              "WorkGroup": "analysts", "ResultConfiguration": {"OutputLocation": "s3://r/q/"}}  # fmt: skip
    assert sleeps == [0.25]


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED"])
def test_a_query_without_a_result_names_athenas_reason(state: str) -> None:
    reason = "SYNTAX_ERROR: line 1:8: Column 'x' cannot be resolved"
    athena = Athena({"Status": {"State": state, "StateChangeReason": reason}})
    with pytest.raises(QueryFailed) as failed:
        result_location(ARGS, athena, lambda _: None)
    assert str(failed.value) == f"Athena query q-1 ended {state}: {reason}"


def test_an_interrupted_wait_stops_the_query() -> None:
    athena = Athena({"Status": {"State": "RUNNING"}}, KeyboardInterrupt())  # type: ignore[arg-type]
    with pytest.raises(KeyboardInterrupt):
        result_location(ARGS, athena, lambda _: None)
    assert athena.stopped == ["q-1"]
