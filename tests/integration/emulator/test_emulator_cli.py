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


def test_aws_endpoint_defaults_to_none_and_history_to_amazons_70_days() -> None:
    args = _parser().parse_args(["emulator"])
    assert (args.aws_endpoint, args.v2_history_days) == (None, 70)


def test_with_an_aws_endpoint_a_v2_subscription_gets_its_files_there(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.server import ThreadedMotoServer

    from adsbridge.ads import AdsSession, TokenProvider
    from adsbridge.ads.auth import LwaCredentials
    from adsbridge.ads.streams_v2 import StreamsV2Client
    from adsbridge_sandbox.emulator import aws_endpoint

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    s3 = aws_endpoint.clients(endpoint, "s3", **credentials)("us-east-1")
    sqs = aws_endpoint.clients(endpoint, "sqs", **credentials)("us-east-1")
    s3.create_bucket(Bucket="v2-data")
    url = sqs.create_queue(QueueName="v2-notifications")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    args = _parser().parse_args(["emulator", "--port", "0", "--aws-endpoint", endpoint, "--v2-history-days", "1"])
    stop = threading.Event()
    thread = threading.Thread(target=lambda: cli.run(args, stop=stop))
    for name, value in credentials.items():  # the emulator's clients sign with the environment's
        monkeypatch.setenv(name.upper(), value)
    thread.start()
    try:
        deadline, out = time.monotonic() + 5, ""
        while "Ctrl-C" not in out and time.monotonic() < deadline:
            time.sleep(0.01)
            out += capsys.readouterr().out
        assert f"Marketing Stream delivered to AWS endpoint {endpoint}" in out
        env = dict(re.findall(r"export (ADSBRIDGE_\w+)='([^']*)'", out))
        lwa = LwaCredentials(env["ADSBRIDGE_CLIENT_ID"], env["ADSBRIDGE_CLIENT_SECRET"], env["ADSBRIDGE_REFRESH_TOKEN"])
        client = StreamsV2Client(AdsSession(env["ADSBRIDGE_API_URL"], TokenProvider(lwa, env["ADSBRIDGE_TOKEN_URL"])))
        client.create("amzn1.ads-account.g.cli", "ads-performance-v1", "arn:aws:s3:::v2-data", queue_arn)
        deadline, landed = time.monotonic() + 30, 0
        while landed < 24 + 2 + 2 and time.monotonic() < deadline:  # a day's hours, 2 live hours, 2 restatements
            time.sleep(0.1)
            landed = s3.list_objects_v2(Bucket="v2-data").get("KeyCount", 0)
        assert landed == 28
    finally:
        stop.set()
        thread.join(5)
        moto.stop()
