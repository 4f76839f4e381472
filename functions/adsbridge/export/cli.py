"""``adsbridge export``: one export job, synchronously, with the same code the Lambdas run."""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adsbridge.export import query_source

if TYPE_CHECKING:
    from adsbridge.export.job import ExportRun
    from adsbridge.export.registry import LocalRegistry
    from adsbridge.export.report import ExportReport
    from adsbridge.export.upload import Settled

FAILED_STATUSES = frozenset({"FAILED", "TIMED_OUT"})
MAX_POLL_INTERVAL = 3600.0


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "export",
        help="run one audience export job (settings use Treasure Data's result_settings names)",
        description="Credentials come from ADSBRIDGE_CLIENT_ID, ADSBRIDGE_CLIENT_SECRET and ADSBRIDGE_REFRESH_TOKEN; "
        "ADSBRIDGE_API_URL / ADSBRIDGE_TOKEN_URL override Amazon's hosts (e.g. to use `adsbridge emulator`). "
        "Exit status: 0 uploaded, 1 FAILED or TIMED_OUT, 2 bad arguments or settings (nothing sent), "
        "130/143 INTERRUPTED by SIGINT/SIGTERM after the request in flight (a second signal abandons it). "
        "Run again on the same input (the same file, unchanged: path, modification time and content digest; or the "
        "same S3 object version) with the same settings, a job that stopped or failed resumes after the last batch "
        "Amazon accepted, with its counts and audience, and one that finished sends nothing and says so; the state "
        "is kept in $ADSBRIDGE_STATE_DIR (default ~/.local/state/adsbridge). A --query result is a new object each "
        "time: it is never resumed.",
    )
    parser.add_argument("--settings", required=True, help="settings JSON file")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", help="CSV or JSON lines (optionally .gz): a path or s3://bucket/key")
    query_source.add_arguments(parser, source)
    parser.add_argument("--report-json", help="also write the report as JSON to this file")
    parser.add_argument(
        "--poll-interval",
        default="30",  # text, checked by check_arguments: argparse's own refusal would print its usage too
        help=f"seconds between job status polls (more than 0, at most {MAX_POLL_INTERVAL:.0f})",
    )
    parser.add_argument(
        "--accept-terms", action="store_true", help="accept the AMC terms on behalf of the authorising user if needed"
    )
    parser.add_argument(
        "--restart",
        action="store_true",
        help="forget what an earlier run of this input with these settings sent, and send every row again "
        "(a CREATE job still appends to the audience it recorded)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # signals are handled from the start: importing requests and pydantic, loading settings and the HTTP client
    # take most of a second, and a signal then must end in one line too (no traceback, no silent SIGTERM death)
    signals = StopOnSignals(None, args)
    with signals:
        try:
            try:
                job = _start(args)
            finally:  # a StoppedEarly lost on the way (C code that clears errors drops it) still stops the run
                if signals.signum is not None:
                    raise StoppedEarly(f"interrupted by {signal.Signals(signals.signum).name} before anything was sent")
            signals.job = job
        except ArgumentError as exc:
            print(f"adsbridge export: {one_line(str(exc))}", file=sys.stderr)
            return 2
        except query_source.QueryFailed as exc:  # nothing was sent: the query found no input to export
            print(f"adsbridge export: {one_line(str(exc))}", file=sys.stderr)
            return 1
        except StoppedEarly as exc:
            print(f"adsbridge export: INTERRUPTED: {exc}", file=sys.stderr)
            return 128 + (signals.signum or signal.SIGINT)
        report = signals.job.run()
        signals.finished = True  # from here a signal changes nothing: the report is being printed
        return finish(report, args, signals.signum)


def _start(args: argparse.Namespace) -> ExportRun:
    """The job, once its arguments, settings and credentials are checked (``ArgumentError`` if they cannot work)."""
    # imported here so that other subcommands (``hash``) start without loading requests and pydantic
    from adsbridge.ads import AdsError, audiences_client
    from adsbridge.export.checkpoint_files import local_state
    from adsbridge.export.job import ExportRun, RunOptions
    from adsbridge.export.registry import LocalRegistry, RegistryError
    from adsbridge.settings import SettingsError, load_settings

    registry = LocalRegistry.default()  # a CREATE job run again appends to the audience its first run made
    try:
        check_arguments(args)
        query_source.check_arguments(args)
        settings = load_settings(args.settings)
        resumable = _state_writable(registry, settings.action == "CREATE", args.restart) and args.query is None
        client = audiences_client(settings.region)
    except (SettingsError, AdsError, RegistryError, query_source.QueryRefused) as exc:
        raise ArgumentError(str(exc)) from None
    if args.query is not None:  # settings and credentials are checked first: a failing job runs no query
        args.input = query_source.result_location(args)
    options = RunOptions(
        poll_interval=args.poll_interval, accept_terms=args.accept_terms, on_batch=_progress, registry=registry,
        state=local_state(restart=args.restart) if resumable else None,
    )  # fmt: skip
    return ExportRun(settings, args.input, client, options)


def _state_writable(registry: LocalRegistry, create: bool, restart: bool) -> bool:
    """Whether the run's state can be saved. A CREATE job must record its audience, so it fails first without it
    (``RegistryError``); any other job runs anyway, told it will not be resumable (and, with ``--restart``, that
    an earlier run's saved state is not forgotten: the state directory cannot be changed)."""
    from adsbridge.export.registry import RegistryError

    try:
        registry.check_writable()
    except RegistryError as exc:
        if create:
            raise
        forgets = ", and --restart forgets nothing" if restart else ""
        print(
            f"adsbridge export: warning: progress is not saved, so this run cannot resume{forgets}: {exc}",
            file=sys.stderr,
        )
        return False
    return True


class ArgumentError(ValueError):
    """A command-line value that cannot work: refused before any request is sent."""


def check_arguments(args: argparse.Namespace) -> None:
    """Refuse a poll interval or a report path that could not work, before anything is created at Amazon."""
    problem = f"--poll-interval: must be seconds, more than 0 and at most {MAX_POLL_INTERVAL:.0f}"
    try:
        interval = float(args.poll_interval)
    except ValueError:
        raise ArgumentError(problem) from None
    if not (math.isfinite(interval) and 0 < interval <= MAX_POLL_INTERVAL):
        raise ArgumentError(problem)
    args.poll_interval = interval
    source = getattr(args, "input", None) or ""  # a ValueError later: told as a bug, not as this mistake
    bucket, _, key = source.removeprefix("s3://").partition("/")
    if source.startswith("s3://") and not (bucket and key):
        raise ArgumentError(f"--input: {source} is not s3://bucket/key")
    if args.report_json:
        path = Path(args.report_json)
        parent = path.parent
        if path.is_dir() or args.report_json.endswith(("/", os.sep)):
            raise ArgumentError(f"--report-json: {args.report_json} is a directory, not a file")
        if not parent.is_dir():
            raise ArgumentError(f"--report-json: directory {parent} does not exist")
        if not os.access(path if path.exists() else parent, os.W_OK):
            raise ArgumentError(f"--report-json: {path} is not writable")


class StoppedEarly(BaseException):
    """A signal before the job existed, raised where the main thread was (an import, reading settings).

    A ``BaseException``, like ``KeyboardInterrupt``, so that no ``except Exception`` on the way turns it into
    another error."""


class StopOnSignals:
    """While the job runs, SIGINT and SIGTERM ask it to stop after the request in flight (``Stop``).

    A second signal abandons that request: the report of what was accepted so far is emitted and the process
    exits at once (``os._exit``: the upload thread may still be waiting on Amazon, and would be joined).
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(
        self, job: ExportRun | None, args: argparse.Namespace, exit_now: Callable[[int], object] = os._exit
    ) -> None:
        self.job = job  # None until the job exists: a signal then raises StoppedEarly, as nothing was sent
        self.args = args
        self._exit_now = exit_now
        self.signum: int | None = None
        self.finished = False  # the job has ended: its report is being printed, so signals change nothing
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopOnSignals:
        for signum in self.SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *_: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if self.finished or (self.job is None and self.signum is not None):
            return
        if self.signum is None:
            self.signum = signum
            if self.job is None:
                raise StoppedEarly(f"interrupted by {name} before anything was sent")
            self.job.options.stop.request(f"interrupted by {name}")
            return
        if self.job is None:
            return
        reason = (
            f"interrupted by {signal.Signals(self.signum).name}, then {name} abandoned the request in flight"
            " (Amazon may still accept it: this report may count fewer records than the audience holds)"
        )
        code = finish(self.job.report("INTERRUPTED", reason), self.args, self.signum)
        sys.stdout.flush()
        sys.stderr.flush()
        self._exit_now(code)


def finish(report: ExportReport, args: argparse.Namespace, signum: int | None) -> int:
    """Print (and write) the report, end a failure with one line naming it; the exit code.

    0 when Amazon has the records (UPLOADED, SUCCEEDED, PARTIALLY_SUCCEEDED), 1 for FAILED and TIMED_OUT,
    128 + the signal's number for INTERRUPTED (130 for SIGINT, 143 for SIGTERM), as shells report them.
    """
    problems = []
    if args.report_json:  # written first: a closed stdout must not keep the audience id from the file
        try:
            report.write_json(args.report_json)
        except OSError as exc:
            problems.append(f"cannot write --report-json: {exc}")
    if sys.stderr.isatty():
        print(file=sys.stderr)
    try:
        print(report.render_text(), flush=True)
    except BrokenPipeError:  # stdout closed early (``| head``): the file and the line below still tell it
        _discard_stdout()
        audience = f" (audience {report.audience_id})" if report.audience_id is not None else ""
        problems.append(f"cannot print the report: stdout was closed{audience}")
    code = 0
    if report.status in FAILED_STATUSES or report.status == "INTERRUPTED":
        code = 128 + signum if report.status == "INTERRUPTED" and signum is not None else 1
        problems.insert(0, f"{report.status}: {report.reason}{_resume_hint(report, args)}")
    elif problems:
        code = 1
    if report.already_sent_at is not None:
        print(
            f"adsbridge export: {args.input} was already sent with these settings by the run started "
            f"{report.already_sent_at}; nothing sent (--restart sends it again)",
            file=sys.stderr,
        )
    problem = "; ".join(problems)
    if problem:
        print(f"adsbridge export: {one_line(problem)}", file=sys.stderr, flush=True)
    return code


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it again at exit raises no second BrokenPipeError."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (a replaced sys.stdout)
        pass
    finally:
        os.close(devnull)


def one_line(text: str) -> str:
    """``text`` with its line breaks (and runs of spaces) as single spaces: stderr gets exactly one line, whatever
    a library put in a message (botocore's parameter errors span lines)."""
    return " ".join(text.split())


def _resume_hint(report: ExportReport, args: argparse.Namespace) -> str:
    """What running the job again does: resume this run where Amazon's last accepted batch left it, with the
    audience it created or reused (recorded in the state directory for a CREATE job), or, for a query's result,
    run the query again and send every row of its new result to that audience. A run held by another process
    (``RunInProgress``) is not this one's to resume: running again now fails the same way."""
    from adsbridge.export.run_claim import RunInProgress

    if (report.reason or "").startswith(f"{RunInProgress.__name__}:"):  # this one sent nothing: the other is sending
        return " (nothing sent by this one: another adsbridge export holds this run; let it finish, or stop it first)"
    if report.audience_id is None:
        return ""
    accepted = f"{report.uploaded_records} record(s) accepted"
    if getattr(args, "query", None) is not None:
        again = "running it again runs the query again and sends every row of its result"
    else:
        again = "running it again on the same input resumes after the last batch accepted (--restart sends all)"
    if report.action != "CREATE":
        return f" (audience {report.audience_id} has {accepted}: {again})"
    return (
        f" (audience {report.audience_id} exists with {accepted} and is recorded for this job: {again}; every run"
        f' of this job adds to that audience, as does "action": "UPDATE", "audience_id": {report.audience_id})'
    )


def _progress(settled: Settled) -> None:
    counters = settled.counters
    if sys.stderr.isatty():
        print(
            f"\ruploaded {counters.uploaded_records:,} records in {counters.total_batches:,} batches, "
            f"skipped {counters.skipped_records:,}",
            end="",
            file=sys.stderr,
            flush=True,
        )
