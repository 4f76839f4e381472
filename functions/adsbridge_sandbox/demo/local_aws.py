"""The local stand-ins for AWS and Amazon: moto's server and the Ads API emulator, both on loopback.

Handlers create their boto3 clients from the environment as in Lambda, so the environment points every
AWS SDK call at moto (``AWS_ENDPOINT_URL``) and the Ads client at the emulator for as long as they run.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import requests
from moto.server import ThreadedMotoServer

from adsbridge import METRICS_NAMESPACE
from adsbridge.stream.datasets import Realm
from adsbridge_sandbox.emulator import Emulator, aws_endpoint
from adsbridge_sandbox.local_lambda import lambdas_in_process
from adsbridge_sandbox.local_machine import run_task

REGION = "us-east-1"
AWS_CLIENT_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")


Observer = Callable[[str, Any], None]  # (task, its result) after each Lambda invocation


@dataclass
class LocalCloud:
    aws_url: str
    emulator: Emulator
    observers: list[Observer] = field(default_factory=list)
    _clients: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def client(self, service: str) -> Any:
        """One boto3 client per service for the cloud's life (boto3's clients are thread-safe): building one
        costs more than a call to moto, and the stream's poller asks for its SQS client on every poll."""
        with self._lock:
            if service not in self._clients:
                self._clients[service] = boto3.client(service, region_name=REGION, endpoint_url=self.aws_url)  # type: ignore[call-overload]
            return self._clients[service]

    def invoke(self, task: str, event: dict[str, Any]) -> Any:
        """moto's Lambda for the export functions: the task's handler, in this process."""
        result = run_task(task, event)
        for observer in list(self.observers):
            observer(task, result)
        return result

    @contextmanager
    def observing(self, observer: Observer) -> Iterator[None]:
        """Call ``observer`` after each invocation for as long as the block runs (the demo's progress bars)."""
        self.observers.append(observer)
        try:
            yield
        finally:
            self.observers.remove(observer)

    def cli_environment(self) -> dict[str, str]:
        """What another shell needs for the adsbridge CLI and AWS tools to reach these servers."""
        aws = environment(self.aws_url, self.emulator)
        return {name: aws[name] for name in AWS_CLIENT_VARIABLES} | self.emulator.client_environment()


def environment(aws_url: str, emulator: Emulator) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": aws_url,
        "MOTO_PORT": aws_url.rsplit(":", 1)[-1],  # where moto's Step Functions sends its Lambda invocations
        "AWS_ACCESS_KEY_ID": "demo",
        "AWS_SECRET_ACCESS_KEY": "demo",
        "AWS_DEFAULT_REGION": REGION,
        "ADSBRIDGE_API_URL": emulator.url,
        "ADSBRIDGE_TOKEN_URL": emulator.token_url,
        "POWERTOOLS_SERVICE_NAME": "adsbridge-demo",
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }


@contextmanager
def local_cloud(
    *, pending_seconds: float, realm: Realm = Realm.NA, v2_options: Mapping[str, Any] | None = None
) -> Iterator[LocalCloud]:
    """Both servers started on free loopback ports, the environment pointed at them; all undone on exit.

    The emulator plays ``realm`` and delivers stream subscriptions' messages to moto's SQS and Firehose, and v2
    subscriptions' files to moto's S3, as ``V2Delivery(**v2_options)`` plans them (``v2_options`` given).
    """
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request otherwise
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)  # logs Choice's IsPresent misses
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    aws_url = f"http://{host}:{port}"
    # moto's server keeps its state in this process's backends: a second local cloud must start empty
    requests.post(f"{aws_url}/moto-api/reset", timeout=30).raise_for_status()
    streams = aws_endpoint.delivery(aws_url, v2_options, aws_access_key_id="demo", aws_secret_access_key="demo")
    emulator = Emulator(pending_seconds=pending_seconds, realm=realm, **streams).start()
    saved = dict(os.environ)
    os.environ.update(environment(aws_url, emulator))
    cloud = LocalCloud(aws_url, emulator)
    try:
        with lambdas_in_process(cloud.invoke):  # for the cloud's whole life: moto keeps such machines apart
            yield cloud
    finally:
        os.environ.clear()
        os.environ.update(saved)
        emulator.stop()
        moto.stop()
