"""The ``adsbridge`` command line as a whole: a signal before a command has installed its own handlers (loading
the commands takes a good part of a second) ends in one stderr line and 128 + its number, never a traceback
(SIGINT) or a silent death (SIGTERM)."""

from __future__ import annotations

import argparse
import signal

import pytest

from adsbridge.cli import main
from adsbridge.export import hash_cli


@pytest.mark.parametrize("lost", [False, True], ids=["raised", "lost on its way"])
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["INT", "TERM"])
def test_a_signal_while_the_commands_load_is_one_line_and_its_exit_status(
    signum: int, code: int, lost: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The handler's exception is raised wherever the main thread is; code that swallows every error (C's
    PyObject_HasAttr does) can lose it, and the command must still not run."""
    real = hash_cli.add_parser

    def add_then_signal(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        real(subparsers)
        try:
            signal.raise_signal(signum)
        except BaseException:
            if not lost:
                raise

    monkeypatch.setattr(hash_cli, "add_parser", add_then_signal)
    try:
        result = main(["hash", "--input", "none.csv"])
    except KeyboardInterrupt:
        pytest.fail("SIGINT while the commands load ended in KeyboardInterrupt (a traceback)")
    assert result == code
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"adsbridge: interrupted by {signal.Signals(signum).name}"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # put back
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_the_command_line_ignores_signals_once_its_command_has_ended(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as the process's command line (no ``argv``), the CLI returns only to exit: a second Ctrl-C or a late
    SIGTERM then must not add a traceback to its one line, or change its exit status."""
    monkeypatch.setattr("sys.argv", ["adsbridge", "hash", "--country", "XX"])
    try:
        assert main() == 2
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["export", "--settings", "s.json"], "adsbridge export: one of the arguments --input --query is required"),
        (["bogus"], "adsbridge: argument command: invalid choice: 'bogus'"),
        (["hash", "--bogus"], "adsbridge: unrecognized arguments: --bogus"),
        (["streams", "list"], "adsbridge streams list: the following arguments are required: --realm"),
    ],
)
def test_arguments_argparse_refuses_are_one_line(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and said in lines[0] and lines[0].endswith("--help)")
