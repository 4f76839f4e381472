"""One whole export job, synchronously: prepare → upload → (wait) → report.

``adsbridge export`` runs this: the export run service (``export.run``) in one process over the whole input,
stoppable by a signal between requests, and resumable as the state machine's runs are (``export.resume``); the
state machine drives the same service one task at a time (``export.steps``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from adsbridge.ads.audiences import AudiencesClient, JobStatus
from adsbridge.export.payloads import RunInfo
from adsbridge.export.poll import poll_until_done
from adsbridge.export.registry import AudienceRegistry
from adsbridge.export.report import Counters, ExportReport
from adsbridge.export.resume import Checkpoints, StateOpener, skip_data
from adsbridge.export.run import exception_reason, ready_target, send, settle, target_of
from adsbridge.export.source import InputError, MalformedRow, Row, RowReader, open_input, read_rows
from adsbridge.export.upload import Pacer, Settled
from adsbridge.settings import ExportSettings


class Interrupted(Exception):
    """A stop was requested (SIGINT, SIGTERM): the job ends INTERRUPTED, with what Amazon accepted so far."""


class Stop:
    """A stop request: set by a signal handler, acted on by the job only between requests.

    Setting it only sets an attribute (no lock a handler could deadlock on). The job checks it before each row
    and after each batch Amazon accepted, and sleeps in short slices that check it, so the request in flight
    when the signal came is finished and counted, and nothing is sent after it.
    """

    SLICE_SECONDS = 0.2

    def __init__(self) -> None:
        self.reason: str | None = None

    def request(self, reason: str) -> None:
        self.reason = reason

    def check(self) -> None:
        if self.reason is not None:
            raise Interrupted(self.reason)

    def sleep(self, seconds: float, sleep: Callable[[float], None] = time.sleep) -> None:
        """``sleep(seconds)`` in slices, raising ``Interrupted`` as soon as a stop is requested."""
        remaining = seconds
        while remaining > 0:
            self.check()
            pause = min(self.SLICE_SECONDS, remaining)
            sleep(pause)
            remaining -= pause
        self.check()


@dataclass
class RunOptions:
    poll_interval: float = 30.0
    accept_terms: bool = False
    s3_client: Any = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    on_batch: Callable[[Settled], None] | None = None
    pacer: Pacer | None = None
    upload_kwargs: dict[str, int] = field(default_factory=dict)
    stop: Stop = field(default_factory=Stop)
    registry: AudienceRegistry | None = None  # CREATE reuses the audience it recorded (``adsbridge export``: a file)
    state: StateOpener | None = None  # a run's saved state by its id (``export.resume``); None: not resumable


class ExportRun:
    """One export job, whose report can be built at any moment from what it did so far (``report``)."""

    def __init__(
        self, settings: ExportSettings, source: str, client: AudiencesClient, options: RunOptions | None = None
    ) -> None:
        self.settings = settings
        self.source = source
        self.client = client
        self.options = options or RunOptions()
        self.started, self._t0 = _now(), self.options.clock()
        self.counters = Counters()
        self.jobs: dict[str, JobStatus] = {}
        self.audience_id: int | None = settings.audience_id
        self.reused_audience = False
        self.already_sent_at: str | None = None  # an earlier run sent every row: this one sends nothing

    def run(self) -> ExportReport:
        """Run the job; failures after the start still produce a report (status FAILED or INTERRUPTED), never
        an exception. The reason of a failure is the state machine's for the same error (``exception_reason``).

        Damaged input (a truncated gzip, an S3 read that fails midway) ends the rows where the damage is: the
        rows before it are uploaded as usual, then the job fails naming the damage.
        """
        options, settings, stop = self.options, self.settings, self.options.stop
        try:
            self._upload()
            finished = True
            if settings.wait_until_finish:  # no jobs: nothing to poll, and outcome() says so
                assert settings.max_wait_time is not None
                self.jobs, finished = poll_until_done(
                    self.client,
                    self.counters.job_request_ids,
                    max_wait_seconds=settings.max_wait_time * 60,
                    interval=options.poll_interval,
                    clock=options.clock,
                    sleep=lambda seconds: stop.sleep(seconds, options.sleep),
                )
            status, reason = settle(self.jobs, wait=settings.wait_until_finish, finished=finished)
        except Interrupted as exc:
            status, reason = "INTERRUPTED", str(exc)
        except Exception as exc:
            status, reason = "FAILED", exception_reason(exc)
        return self.report(status, reason)

    def _upload(self) -> None:
        """Send every row not sent yet: all of them, or those after the last batch an earlier run of this run got
        accepted (its counters restored, its audience reused), or none when an earlier run sent them all."""
        options, settings, stop = self.options, self.settings, self.options.stop
        # the input's version first, then the input opened pinned to it (another version is an InputError): the run
        # is recorded as the version it reads. Both before anything is created: a missing file fails there, as
        # input that cannot be exported at all (a header without the columns needed) fails before prepare
        with (
            Checkpoints.of(self.source, settings, options.state, options.s3_client) as saved,
            open_input(self.source, s3_client=options.s3_client, pin=saved.version.pin) as stream,
        ):
            sent = saved.finished()
            if sent is not None and saved.prepared is not None:  # nothing left to send: report again
                self.counters, self.already_sent_at = sent, saved.prepared.started_at
                self._use(saved.prepared)
                return
            offset, self.counters = saved.resume_point()
            reader = read_rows(skip_data(stream, offset, saved.json_lines), json_lines=saved.json_lines, start=offset)
            rows = _Guarded(reader, stop)
            run = saved.prepared or self._prepare(rows.columns, saved)  # resumed: the same bytes, checked before
            self._use(run)
            stop.check()
            send(
                settings, self.client, target_of(run), rows, self.counters,
                pacer=options.pacer or Pacer(sleep=stop.sleep), on_batch=partial(self._settled, saved),
                **options.upload_kwargs,
            )  # fmt: skip
            if rows.error is not None:
                raise rows.error
            saved.finish(self.counters)

    def _prepare(self, columns: list[str] | None, saved: Checkpoints) -> RunInfo:
        target = ready_target(
            self.settings, self.client, columns, accept_terms=self.options.accept_terms,
            registry=self.options.registry, before_prepare=self.options.stop.check,
        )  # fmt: skip
        return saved.prepare(target, self.settings, self.started)

    def _use(self, run: RunInfo) -> None:
        self.audience_id, self.reused_audience = int(run.audience_id), run.reused_audience

    def report(self, status: str, reason: str | None) -> ExportReport:
        return ExportReport.build(
            status=status,
            audience_id=self.audience_id,
            settings=self.settings,
            counters=self.counters,
            jobs=self.jobs,
            started_at=self.started,
            finished_at=_now(),
            duration_seconds=self.options.clock() - self._t0,
            reason=reason,
            reused_audience=self.reused_audience,
            already_sent_at=self.already_sent_at,
        )

    def _settled(self, saved: Checkpoints, settled: Settled) -> None:
        saved.accepted(settled)  # first: a stop, or a failure in on_batch, must not lose an accepted batch
        if self.options.on_batch is not None:
            self.options.on_batch(settled)
        self.options.stop.check()  # after the batch is counted: nothing more is sent


def run_export(
    settings: ExportSettings, source: str, client: AudiencesClient, options: RunOptions | None = None
) -> ExportReport:
    """Run one job (see ``ExportRun.run``)."""
    return ExportRun(settings, source, client, options).run()


class _Guarded:
    """The reader's rows, checking for a stop before each, and ending (not raising) at damaged input.

    The damage is kept in ``error`` for the job to raise once the rows before it were uploaded.
    """

    def __init__(self, rows: RowReader, stop: Stop) -> None:
        self._rows = rows
        self._stop = stop
        self.columns = rows.columns
        self.error: InputError | None = None

    @property
    def offset(self) -> int:
        return self._rows.offset

    def __iter__(self) -> Iterator[Row | MalformedRow]:
        while True:
            self._stop.check()
            try:
                row = next(self._rows)
            except StopIteration:
                return
            except InputError as exc:
                self.error = exc
                return
            yield row


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
