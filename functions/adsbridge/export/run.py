"""The export run service: what one export does, the same for ``adsbridge export`` and the state machine.

``job.ExportRun`` drives it in one process over the whole input; ``steps`` drives it one state-machine task
at a time over S3 chunks, keeping its state in ``checkpoint.RunStore``. Both make the target ready, send rows,
decide the status and explain a failure through these functions, so a report means the same in both.
"""

from __future__ import annotations

import builtins
import csv
import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import botocore.exceptions

from adsbridge.ads.audiences import AudiencesClient, JobStatus
from adsbridge.ads.errors import AdsError, ApiError, AuthError, ContractError
from adsbridge.export.checkpoint import RunStateDamaged
from adsbridge.export.chunks import Layout
from adsbridge.export.payloads import RunInfo, TaskError
from adsbridge.export.prepare import PrepareError, Target, prepare
from adsbridge.export.records import RecordBuilder
from adsbridge.export.registry import AudienceRegistry, RegistryError
from adsbridge.export.report import Counters
from adsbridge.export.run_claim import RunInProgress
from adsbridge.export.source import InputError, InputReplaced, Rows, check_columns
from adsbridge.export.upload import Pacer, Settled, upload_rows
from adsbridge.lambda_environment import LambdaEnvironmentError
from adsbridge.settings import ExportSettings, SettingsError

REASON_MAX = 500
RETRY_WRAPPERS = frozenset({"AdsRetryable"})  # export.handlers.runtime: a retryable AdsError, "Type: message"


def _names(module: object, *bases: type[BaseException]) -> set[str]:
    return {value.__name__ for value in vars(module).values() if isinstance(value, type) and issubclass(value, bases)}


# Errors whose message is adsbridge's, AWS's or the OS's own wording, never a row's values (``failure_reason``):
# adsbridge's run errors, every botocore error (an SDK call's code and message; S3's modelled NoSuchKey and
# NoSuchBucket are made at run time, so named here; botocore's ValidationError is left out: pydantic's has the
# same name and quotes its input), every built-in OSError (a path and the OS's words), the csv module's
# ``Error``, the state machine's own errors and the statuses of an execution ended outside its Catch (``notify``).
TOLD_ERRORS = frozenset({
    *(error.__name__ for error in (AdsError, ApiError, AuthError, ContractError, PrepareError, InputError,
                                   InputReplaced, RegistryError, RunInProgress, RunStateDamaged, SettingsError,
                                   LambdaEnvironmentError, csv.Error)),
    *_names(botocore.exceptions, botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError),
    "NoSuchKey", "NoSuchBucket",
    *_names(builtins, OSError),
    "AthenaQueryFailed", "AthenaQueryTimedOut", "TIMED_OUT", "ABORTED", *RETRY_WRAPPERS,
}) - {"ValidationError"}  # fmt: skip
# Step Functions' and its service integrations' own errors (States.Timeout, Lambda.Unknown, Sandbox.Timedout, ...)
SERVICE_ERROR_PREFIXES = ("States.", "Lambda.", "Sandbox.", "Runtime.", "Athena.")


def ready_target(
    settings: ExportSettings,
    client: AudiencesClient,
    columns: list[str] | None,
    *,
    accept_terms: bool,
    registry: AudienceRegistry | None,
    before_prepare: Callable[[], None] = lambda: None,
) -> Target:
    """The audience ready for records, once the input's header showed it can be exported at all.

    The header is checked first: input without ``externaluserid`` or a PII column would have every row skipped
    after the audience was created (``InputError``; ``None`` for JSON lines, which have no header).
    ``before_prepare`` runs between the two (``adsbridge export``: a stop requested meanwhile sends nothing).
    """
    check_columns(columns)
    before_prepare()
    return prepare(settings, client, accept_terms=accept_terms, registry=registry)


def send(
    settings: ExportSettings,
    client: AudiencesClient,
    target: Target,
    rows: Rows,
    counters: Counters,
    *,
    pacer: Pacer,
    on_batch: Callable[[Settled], None],
    **limits: int,
) -> None:
    """Rows → hashed records → Amazon in batches, counted in ``counters``; ``on_batch`` after each accepted one."""
    upload_rows(rows, RecordBuilder(settings), client, target, counters, pacer=pacer, on_batch=on_batch, **limits)


def run_info(
    run: str, target: Target, layout: Layout, settings: ExportSettings, started_at: str, *, etag: str | None = None
) -> RunInfo:
    """The prepared run: what every later step (or a resumed ``adsbridge export``) needs of its target, and the
    input version (``etag``) the state machine's chunks read (``adsbridge export`` pins its own: ``resume``)."""
    return RunInfo(
        run_id=run,
        audience_id=str(target.audience_id),
        connection_id=target.connection_id,
        to_dsp=target.to_dsp,
        layout=layout,
        wait=settings.wait_until_finish,
        started_at=started_at,
        reused_audience=target.reused,
        etag=etag,
    )


def target_of(run: RunInfo) -> Target:
    """The target a prepared run sends to (``reused`` is the run's to report, not the target's to send)."""
    return Target(audience_id=int(run.audience_id), connection_id=run.connection_id, to_dsp=run.to_dsp)


def progress_document(index: int, settled: Settled) -> dict[str, Any]:
    """What is saved after each batch Amazon accepted: the offset past its rows and the counters of the rows before
    it, so a resumed upload reads on from there and counts on from those (``resume_point``)."""
    return {"index": index, "offset": settled.offset, **asdict(settled.done())}


def resume_point(progress: dict[str, Any] | None) -> tuple[int, Counters]:
    """Where an upload resumes: the offset and counters of its saved progress, or the start."""
    return (int(progress["offset"]), Counters.restore(progress)) if progress else (0, Counters())


def result_document(index: int, counters: Counters) -> dict[str, Any]:
    """A finished upload's counters: its rows are all sent, a re-run sends nothing (``Counters.restore``)."""
    return {"index": index, **asdict(counters)}


def settle(jobs: dict[str, JobStatus], *, wait: bool, finished: bool) -> tuple[str, str | None]:
    """The status (and reason) of a run whose rows were all sent: UPLOADED unless the job waits for Amazon."""
    return outcome(jobs, finished) if wait else ("UPLOADED", None)


def outcome(jobs: dict[str, JobStatus], finished: bool) -> tuple[str, str | None]:
    """The report status (and reason) once polling stopped (``finished``: every job terminal in time)."""
    if not finished:
        pending = sum(1 for job in jobs.values() if not job.terminal)
        return "TIMED_OUT", f"max_wait_time reached with {pending} job(s) still pending"
    if not jobs:  # every row skipped, or none at all: nothing failed
        return "SUCCEEDED", "no records to upload"
    failed = sum(1 for job in jobs.values() if job.state == "FAILED")
    if failed == len(jobs):
        return "FAILED", "Amazon failed every upload job"
    if failed or any(job.state == "PARTIALLYSUCCEEDED" or job.invalid for job in jobs.values()):
        return "PARTIALLY_SUCCEEDED", f"{failed} failed job(s)" if failed else "some records were invalid"
    return "SUCCEEDED", None


def task_failure_reason(error: TaskError) -> str:
    """The reason of a Step Functions Catch result: ``failure_reason`` of its error name and message.

    A Lambda error's Cause is JSON whose stack trace is dropped (noise in a report); a Cause that is not a Lambda
    error (an Athena status, an SDK message, a ``Fail`` state's text) is the message whole.
    """
    try:
        cause = json.loads(error.cause)
        message = str(cause.get("errorMessage", error.cause)) if isinstance(cause, dict) else error.cause
    except json.JSONDecodeError:
        message = error.cause
    return failure_reason(error.error, message)


def exception_reason(exc: BaseException) -> str:
    """The reason of an exception raised in this process (``adsbridge export``): as the Lambda path tells it."""
    return failure_reason(type(exc).__name__, str(exc))


def failure_reason(error: str, message: str) -> str:
    """``error: message`` for an error whose message is adsbridge's, AWS's or the OS's own wording.

    Decided from the error's type name alone (all a Catch result carries), so ``adsbridge export`` and the state
    machine give the same text for the same failure. Any other type is a bug whose message could quote a row (a
    ``KeyError`` naming a value, a ``ValidationError`` echoing its input): only its type is told. A retryable
    Ads error that outlasted its Lambda retries arrives wrapped (``AdsRetryable: ApiError: ...``) and is told as
    the Ads error it wraps, as ``adsbridge export`` (which raises it unwrapped) tells it.
    """
    inner, _, rest = message.partition(": ")
    if error in RETRY_WRAPPERS and _told(inner):
        return failure_reason(inner, rest)
    if not _told(error):
        return f"unexpected {error} (a bug in adsbridge: please report it)"
    return f"{error}: {message}"[:REASON_MAX] if message else error


def _told(error: str) -> bool:
    return error in TOLD_ERRORS or error.startswith(SERVICE_ERROR_PREFIXES)
