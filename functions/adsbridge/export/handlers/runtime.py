"""What every export handler shares: Powertools logger/metrics/tracer and the services built from the environment.

``services()`` is cached so a warm Lambda reuses its clients (and its LwA access token); tests replace it.
Those clients outlive an invocation, so they read its deadline through ``DEADLINE``, which ``retry_later``
points at the running invocation's context.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

from adsbridge import METRICS_NAMESPACE
from adsbridge.ads import AdsError, AudiencesClient, RetryPolicy, audiences_client
from adsbridge.ads.secrets import credentials_from_secret
from adsbridge.export.handlers.environment import ExportEnvironment
from adsbridge.export.payloads import JobSpec
from adsbridge.export.steps import Services
from adsbridge.settings import ExportSettings

logger = Logger(service="export")
tracer = Tracer(service="export")
metrics = Metrics(namespace=METRICS_NAMESPACE, service="export")


class AdsRetryable(Exception):
    """A retryable Ads error (throttling, 5xx) that outlasted the session's own retries.

    Lambda reports it as errorType ``AdsRetryable``, which the state machine retries after a longer pause;
    every other error goes straight to the failure report.
    """


class Deadline:
    """The running invocation's remaining time: Ads retries and pacing waits stop short of it (``POLICY``)."""

    def __init__(self) -> None:
        self.context: Any = None

    def remaining(self) -> float:
        """Seconds until the Lambda times out; unlimited outside an invocation or with a context without a clock."""
        millis = getattr(self.context, "get_remaining_time_in_millis", None)
        return math.inf if millis is None else float(millis()) / 1000


DEADLINE = Deadline()
POLICY = RetryPolicy(deadline=DEADLINE.remaining)


@contextmanager
def retry_later(context: Any) -> Iterator[None]:
    """Run a step within ``context``'s deadline; a retryable Ads error leaves as AdsRetryable."""
    DEADLINE.context = context
    try:
        yield
    except AdsError as exc:
        if exc.retryable:
            raise AdsRetryable(f"{type(exc).__name__}: {exc}") from exc
        raise
    finally:
        DEADLINE.context = None


def paced_sleep(seconds: float) -> None:
    """A pacing wait (between batches, after the last one's checkpoint) that would pass the deadline's reserve
    ends the invocation instead: Step Functions retries it and the chunk resumes from its checkpoint."""
    if DEADLINE.remaining() - seconds < POLICY.reserve:
        raise AdsRetryable(f"pacing wait of {seconds:.0f}s would run into the Lambda timeout")
    time.sleep(seconds)


def ads_clients(
    secrets: Any, policy: RetryPolicy | None = None
) -> Callable[[JobSpec, ExportSettings], AudiencesClient]:
    """One Ads client per (secret, region): credentials from the job's secret, else from the environment."""
    cache: dict[tuple[str | None, str], AudiencesClient] = {}

    def client(job: JobSpec, settings: ExportSettings) -> AudiencesClient:
        key = (job.secret_name, settings.region.value)
        if key not in cache:
            credentials = credentials_from_secret(secrets, job.secret_name) if job.secret_name else None
            cache[key] = audiences_client(settings.region, credentials, policy=policy)
        return cache[key]

    return client


@lru_cache(maxsize=1)
def services() -> Services:
    import boto3

    return Services(
        s3=boto3.client("s3"),
        state_bucket=ExportEnvironment.from_environ().state_bucket,
        ads=ads_clients(boto3.client("secretsmanager"), POLICY),
        sleep=paced_sleep,
        executions=boto3.client("stepfunctions"),
    )
