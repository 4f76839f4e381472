"""The run claim: one execution at a time exports a run (``claim.json`` beside its checkpoints).

A duplicate S3 event or a re-drop while the run is still going must not create a second audience or upload the
same chunks twice; a re-run after the owner ended (its report written, or stopped by hand or timed out) takes
the run over and resumes it from its checkpoints.
"""

from __future__ import annotations

from typing import Any, Protocol

from adsbridge.export.checkpoint import RunStore
from adsbridge.export.payloads import JobSpec
from adsbridge.export.report import report_key

CLAIM = "claim.json"  # the execution that owns the run (``claim_run``)


class StatePorts(Protocol):
    """What the claim reads besides the run's store: the reports in the state bucket and Step Functions."""

    s3: Any
    state_bucket: str
    executions: Any  # None: only a report tells that an owner ended


class RunInProgress(Exception):
    """Another execution owns this run: a duplicate S3 event or a re-drop while the run is still going.

    Not retryable: the execution fails at once and its failure report names the owner.
    """


def claim_run(
    store: RunStore, job: JobSpec, run: str, execution: str, ports: StatePorts, execution_arn: str | None = None
) -> None:
    """Make ``execution`` the run's owner in ``claim.json`` (conditional PUTs), else raise ``RunInProgress``.

    The owner is superseded only once it has ended: it wrote its report (Report or FailureReport), or Step
    Functions says it no longer runs (stopped by hand or timed out, which leaves no report). The claim is then
    taken over with a PUT conditional on that claim's ETag: a re-run after a crash resumes, and of two such
    re-runs one wins. A Prepare retried within the owner keeps its claim.
    """
    mine = {"execution": execution, "execution_arn": execution_arn}
    while not store.create(CLAIM, mine):
        found = store.load_versioned(CLAIM)
        if found is None:
            continue  # deleted (by an operator) or still being written (409) when we read it: try again
        claim, etag = found
        owner = str(claim["execution"])
        if owner == execution:
            return
        if not (report_exists(ports, job, owner) or stopped(ports, claim.get("execution_arn"))):
            raise RunInProgress(f"run {run} is already being exported by execution {owner}")
        if store.replace(CLAIM, mine, etag):
            return
        # another re-run took the ended owner's claim first: the next round names it


def stopped(ports: StatePorts, execution_arn: str | None) -> bool:
    """Whether Step Functions says the execution no longer runs (unknown without a client or an ARN)."""
    if ports.executions is None or not execution_arn:
        return False
    return str(ports.executions.describe_execution(executionArn=execution_arn)["status"]) != "RUNNING"


def report_exists(ports: StatePorts, job: JobSpec, execution: str) -> bool:
    """Whether ``execution`` of ``job`` wrote its report (Report, FailureReport, or Notify for it)."""
    try:
        ports.s3.head_object(Bucket=ports.state_bucket, Key=report_key(job.name, execution))
    except ports.s3.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return False
        raise
    return True
