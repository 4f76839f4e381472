"""The ``adsbridge`` command line: one subcommand per module that owns it."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import NoReturn, cast

# Commands of packages installed beside this one (the dev tooling's demo and emulator) join through entry
# points, so the runtime package never imports its dev tooling.
COMMANDS = "adsbridge.commands"


class Terminated(BaseException):
    """SIGTERM, raised where the main thread is, as SIGINT raises ``KeyboardInterrupt``.

    Until a command installs its own handlers (``adsbridge export`` stops after the request in flight), a
    signal ends the CLI with one stderr line and exit status 128 + its number: never a traceback, nor a silent
    death by SIGTERM (README, "Exit status of adsbridge export").
    """


class OneLineErrors(argparse.ArgumentParser):
    """An argument parser whose refusal is one stderr line (argparse prints its usage first): every failure of
    the CLI ends in exactly one line naming the reason (README, "Exit status of adsbridge export"). Its
    subcommands' parsers are of this class too (``add_subparsers`` makes them of the parent's class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    # imported here, not at the top: main() handles signals first, and loading the commands takes a good part
    # of a second (phonenumbers, requests, the dev tooling's entry points)
    from adsbridge import __version__
    from adsbridge.ads import auth_cli
    from adsbridge.export import cli as export_cli
    from adsbridge.export import hash_cli, jobs_cli, schedule_cli
    from adsbridge.stream import cli as streams_cli

    parser = OneLineErrors(
        prog="adsbridge", description="Move advertising data between your AWS account and Amazon Ads."
    )
    parser.add_argument("--version", action="version", version=f"adsbridge {__version__}")
    # the subcommands' parsers are OneLineErrors too; the commands' add_parser take any ArgumentParser's
    subparsers = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]", parser.add_subparsers(dest="command", required=True)
    )
    hash_cli.add_parser(subparsers)
    export_cli.add_parser(subparsers)
    schedule_cli.add_parser(subparsers)
    jobs_cli.add_parser(subparsers)
    auth_cli.add_parser(subparsers)
    streams_cli.add_parser(subparsers)
    for command in sorted(entry_points(group=COMMANDS), key=lambda entry: entry.name):
        command.load()(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; ``argv`` None means the process's own command line, which ends when this returns."""
    on_main_thread = threading.current_thread() is threading.main_thread()  # where signal handlers can be set
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS} if on_main_thread else {}
    received: list[signal.Signals] = []

    def interrupt(signum: int, _frame: object) -> None:
        received.append(signal.Signals(signum))
        raise KeyboardInterrupt if signum == signal.SIGINT else Terminated

    if on_main_thread:
        for signum in SIGNALS:
            signal.signal(signum, interrupt)
    try:
        args = build_parser().parse_args(argv)
        if received:  # its exception was lost on the way: C code that clears errors (PyObject_HasAttr) drops it
            raise Terminated
        return int(args.func(args))
    except (KeyboardInterrupt, Terminated) as exc:
        _ignore_signals(on_main_thread)  # a second Ctrl-C while this line is printed changes nothing
        name = received[0] if received else signal.SIGINT if isinstance(exc, KeyboardInterrupt) else signal.SIGTERM
        print(f"adsbridge: interrupted by {name.name}", file=sys.stderr)
        return 128 + name
    except BrokenPipeError:
        sys.stderr.close()
        return 1
    finally:
        if argv is None:  # the process ends now: a late signal must not turn its one line into a traceback
            _ignore_signals(on_main_thread)
        else:
            for signum, handler in previous.items():
                if handler is not None:
                    signal.signal(signum, handler)


SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _ignore_signals(on_main_thread: bool) -> None:
    if on_main_thread:
        for signum in SIGNALS:
            signal.signal(signum, signal.SIG_IGN)


if __name__ == "__main__":
    raise SystemExit(main())
