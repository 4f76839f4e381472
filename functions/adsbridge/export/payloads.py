"""What travels in the export state machine's state: small descriptors only (ids, offsets, counts).

Rows, records and PII never do; per-chunk results and job states live in S3 (``checkpoint.RunStore``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from adsbridge.export.chunks import DEFAULT_CHUNK_BYTES, Chunk, Layout

JOB_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
INCOMING = "incoming/"  # input-bucket prefix under which dropped files start export jobs


class _State(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class JobSpec(_State):
    """One configured job, as the EventBridge rule or schedule puts it into the execution input."""

    name: Annotated[str, Field(pattern=JOB_NAME)]
    settings: dict[str, Any]  # validated by the Prepare step, so bad settings end in a failure report
    secret_name: str | None = None  # None: credentials from the environment (local runs)
    chunk_bytes: Annotated[int, Field(ge=1)] = DEFAULT_CHUNK_BYTES
    accept_terms: bool = False
    notify: Literal["failure", "always"] = "failure"  # when the finished execution notifies (``export.notify``)


class SourceObject(_State):
    bucket: str
    key: str


class RunInfo(_State):
    """The prepared run; ``audience_id`` is a string because 18-digit ids are not safe as JSON numbers everywhere."""

    run_id: str
    audience_id: str
    connection_id: str
    to_dsp: bool
    layout: Layout
    wait: bool
    started_at: str
    reused_audience: bool = False  # the CREATE job's audience from an earlier run (``export.registry``)


class Prepared(_State):
    run: RunInfo
    chunks: list[Chunk]


class PollState(_State):
    deadline: float = 0.0  # epoch seconds; 0 until the first poll sets it from max_wait_time
    done: bool = False
    timed_out: bool = False
    pending: int = 0
    more: bool = False  # the round has jobs left to poll: poll again without waiting
    round: int = 0  # the polling round, counted from 1; a slice continues it while ``more``


class TaskError(_State):
    """A Step Functions Catch result: ``Cause`` is the Lambda error JSON (errorType, errorMessage, stackTrace)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    error: str = Field(default="States.TaskFailed", alias="Error")
    cause: str = Field(default="", alias="Cause")
