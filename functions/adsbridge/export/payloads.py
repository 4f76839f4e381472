"""What travels in the export state machine's state: small descriptors only (ids, offsets, counts).

Rows, records and PII never do; per-chunk results and job states live in S3 (``checkpoint.RunStore``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from adsbridge.export.chunks import DEFAULT_CHUNK_BYTES, Chunk, Layout
from adsbridge.settings import ExportSettings, SettingsError, parse_settings

JOB_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
INCOMING = "incoming/"  # input-bucket prefix under which dropped files start export jobs


class _State(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class InvalidSettings(_State):
    """Execution-input settings that did not validate (an execution started by hand with a typo).

    Held with their problems, not raised while the input is read, so every step can still read the job: Prepare
    raises them as the ``SettingsError`` that fails the run, and the failure report can be written. ``given``
    is what the input held, written back unchanged when the job is serialised again.
    """

    given: Any
    problems: list[str]

    def error(self) -> SettingsError:
        return SettingsError(self.problems)


def _settings_or_problems(value: Any) -> ExportSettings | InvalidSettings:
    if isinstance(value, ExportSettings | InvalidSettings):
        return value
    try:
        return parse_settings(value)
    except SettingsError as exc:
        return InvalidSettings(given=value, problems=exc.problems)


def _wire(settings: ExportSettings | InvalidSettings) -> Any:
    return settings.wire() if isinstance(settings, ExportSettings) else settings.given


class JobSpec(_State):
    """One configured job, as the EventBridge rule or schedule puts it into the execution input.

    ``settings`` is the validated model, written as ``ExportSettings.wire`` (ids as digit strings) and read back
    into the model; settings that do not validate read as ``InvalidSettings`` (``settings_or_raise``).
    """

    name: Annotated[str, Field(pattern=JOB_NAME)]
    settings: Annotated[
        ExportSettings | InvalidSettings,
        BeforeValidator(_settings_or_problems),
        PlainSerializer(_wire, when_used="json"),
    ]
    secret_name: str | None = None  # None: credentials from the environment (local runs)
    chunk_bytes: Annotated[int, Field(ge=1)] = DEFAULT_CHUNK_BYTES
    accept_terms: bool = False
    notify: Literal["failure", "always"] = "failure"  # when the finished execution notifies (``export.notify``)

    def settings_or_raise(self) -> ExportSettings:
        """The validated settings; ``SettingsError`` naming each bad setting when they did not validate."""
        if isinstance(self.settings, InvalidSettings):
            raise self.settings.error()
        return self.settings

    @property
    def valid_settings(self) -> ExportSettings | None:
        """The settings, or None when they did not validate (what a failure report can still say)."""
        return self.settings if isinstance(self.settings, ExportSettings) else None


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
    # the input's S3 ETag Prepare planned the chunks on: every chunk reads that version only (``chunks.open_chunk``).
    # None: a run prepared before the ETag was recorded (an execution already running), read as it is
    etag: str | None = None


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
