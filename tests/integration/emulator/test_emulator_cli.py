"""The ``emulator`` subcommand: argument parsing, printed environment, serving, Ctrl-C."""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests

from adsbridge_sandbox.emulator import cli


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="adsbridge")
    cli.add_parser(parser.add_subparsers(dest="command"))
    return parser


def test_add_parser_defaults() -> None:
    args = _parser().parse_args(["emulator"])
    assert (args.host, args.port, args.pending_seconds, args.accept_terms) == ("127.0.0.1", 8787, 0.5, False)
    assert args.func is cli.run
    custom = _parser().parse_args(["emulator", "--port", "0", "--pending-seconds", "2.5", "--host", "127.0.0.1"])
    assert (custom.port, custom.pending_seconds) == (0, 2.5)


def test_match_rate_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert _parser().parse_args(["emulator"]).match_rate == 0.75
    assert _parser().parse_args(["emulator", "--match-rate", "0.3"]).match_rate == 0.3
    for bad in ("1.5", "-0.1", "half"):
        with pytest.raises(SystemExit):
            _parser().parse_args(["emulator", "--match-rate", bad])
    assert "match_rate must be a number from 0.0 to 1.0" in capsys.readouterr().err


def test_run_prints_env_and_serves(capsys: pytest.CaptureFixture[str]) -> None:
    args = _parser().parse_args(["emulator", "--port", "0", "--accept-terms"])
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(cli.run(args, stop=stop)))
    thread.start()
    try:
        deadline = time.monotonic() + 5
        out = ""
        while "Ctrl-C" not in out and time.monotonic() < deadline:
            time.sleep(0.01)
            out += capsys.readouterr().out
        env = dict(re.findall(r"export (ADSBRIDGE_\w+)='([^']*)'", out))
        assert set(env) == {
            "ADSBRIDGE_API_URL",
            "ADSBRIDGE_TOKEN_URL",
            "ADSBRIDGE_CLIENT_ID",
            "ADSBRIDGE_CLIENT_SECRET",
            "ADSBRIDGE_REFRESH_TOKEN",
        }
        form = {
            "grant_type": "refresh_token",
            "client_id": env["ADSBRIDGE_CLIENT_ID"],
            "client_secret": env["ADSBRIDGE_CLIENT_SECRET"],
            "refresh_token": env["ADSBRIDGE_REFRESH_TOKEN"],
        }
        token = requests.post(env["ADSBRIDGE_TOKEN_URL"], data=form, timeout=5).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Amazon-Advertising-API-ClientId": env["ADSBRIDGE_CLIENT_ID"]}
        terms = requests.get(env["ADSBRIDGE_API_URL"] + "/amc/audiences/connections/terms", headers=headers, timeout=5)
        assert terms.json()["hasAccepted"] is True
    finally:
        stop.set()
        thread.join(5)
    assert result == [0]


def test_ctrl_c_stops_cleanly() -> None:
    code = (
        "import argparse, sys\n"
        "from adsbridge_sandbox.emulator import cli\n"
        "p = argparse.ArgumentParser(); cli.add_parser(p.add_subparsers())\n"
        "a = p.parse_args(['emulator', '--port', '0'])\n"
        "sys.exit(a.func(a))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert url, first
        assert requests.get(url.group(0) + "/nothing", timeout=5).status_code == 404
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_busy_port_returns_error_code(capsys: pytest.CaptureFixture[str]) -> None:
    from adsbridge_sandbox.emulator import Emulator

    with Emulator() as running:
        port = int(running.url.rsplit(":", 1)[1])
        args = _parser().parse_args(["emulator", "--port", str(port)])
        assert cli.run(args) == 2
    assert "cannot listen" in capsys.readouterr().out
