"""The run claim: one execution owns a run; its own retries keep it, a later execution takes it once the owner
has written its report or Step Functions says it stopped, and of two such takers one wins.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from adsbridge.export.checkpoint import RunStore
from adsbridge.export.payloads import JobSpec
from adsbridge.export.run_claim import CLAIM, RunInProgress, claim_run
from adsbridge.export.steps import Services

BUCKET = "adsbridge-unit-state"
JOB = JobSpec(name="crm", settings={})


@pytest.fixture
def services(moto_aws: None) -> Services:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    return Services(s3=s3, state_bucket=BUCKET, ads=lambda *_: None)


def store(services: Services) -> RunStore:
    return RunStore(services.s3, BUCKET, JOB.name, "run1")


def owner(services: Services) -> Any:
    return store(services).load(CLAIM)["execution"]


def test_the_owner_keeps_its_claim_and_others_fail_while_it_runs(services: Services) -> None:
    claim_run(store(services), JOB, "run1", "a", services)
    claim_run(store(services), JOB, "run1", "a", services)  # Prepare retried by Step Functions
    with pytest.raises(RunInProgress, match=r"^run run1 is already being exported by execution a$"):
        claim_run(store(services), JOB, "run1", "b", services)
    assert owner(services) == "a"


def test_an_ended_owner_is_superseded(services: Services) -> None:
    claim_run(store(services), JOB, "run1", "a", services)
    services.s3.put_object(Bucket=BUCKET, Key="reports/crm/a.json", Body=b"{}")
    claim_run(store(services), JOB, "run1", "b", services)
    assert owner(services) == "b"
    with pytest.raises(RunInProgress, match=r"execution b$"):
        claim_run(store(services), JOB, "run1", "c", services)


def test_of_two_takers_of_an_ended_claim_one_wins(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    claim_run(store(services), JOB, "run1", "a", services)
    services.s3.put_object(Bucket=BUCKET, Key="reports/crm/a.json", Body=b"{}")
    loser = store(services)
    reads = iter([loser.load_versioned(CLAIM)])  # c reads a's claim, then b takes it over
    claim_run(store(services), JOB, "run1", "b", services)
    fresh = loser.load_versioned
    monkeypatch.setattr(loser, "load_versioned", lambda name: next(reads, None) or fresh(name))
    with pytest.raises(RunInProgress, match=r"execution b$"):  # names the winner, not the ended owner
        claim_run(loser, JOB, "run1", "c", services)
    assert owner(services) == "b"


class Executions:
    """Step Functions' DescribeExecution, as far as the claim asks it."""

    def __init__(self, statuses: dict[str, str]) -> None:
        self.statuses = statuses

    def describe_execution(self, *, executionArn: str) -> dict[str, str]:
        return {"executionArn": executionArn, "status": self.statuses[executionArn]}


@pytest.mark.parametrize(("status", "taken"), [("ABORTED", True), ("TIMED_OUT", True), ("RUNNING", False)])
def test_an_owner_stopped_without_a_report_is_superseded(services: Services, status: str, taken: bool) -> None:
    """Stopped by hand or by its timeout, an execution writes no report; Step Functions still knows it ended."""
    services.executions = Executions({"arn:execution:a": status})
    claim_run(store(services), JOB, "run1", "a", services, "arn:execution:a")
    if taken:
        claim_run(store(services), JOB, "run1", "b", services, "arn:execution:b")
        assert owner(services) == "b"
    else:
        with pytest.raises(RunInProgress, match=r"execution a$"):
            claim_run(store(services), JOB, "run1", "b", services, "arn:execution:b")
