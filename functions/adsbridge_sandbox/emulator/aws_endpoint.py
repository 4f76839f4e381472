"""Pointing the emulator's Marketing Stream at an AWS endpoint (moto's server, or any that speaks the APIs): v1
messages to SQS queues and Firehose streams, v2 files to S3 buckets with notifications to SQS, one client per
service and region. The demo and ``adsbridge emulator --aws-endpoint`` build the emulator's delivery here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import boto3

from .stream_v2_delivery import V2Delivery


def clients(endpoint_url: str, service: str, **credentials: str) -> Callable[[str], Any]:
    """Region → one client of ``service`` on the endpoint; ``credentials`` (else the environment's) sign them."""

    @cache
    def client_for(region: str) -> Any:
        return boto3.client(service, region_name=region, endpoint_url=endpoint_url, **credentials)  # type: ignore[call-overload]

    return client_for


def delivery(endpoint_url: str, v2_options: Mapping[str, Any] | None = None, **credentials: str) -> dict[str, Any]:
    """The emulator's keyword arguments for delivering there; v2 with ``V2Delivery(**v2_options)`` when given."""
    sqs = clients(endpoint_url, "sqs", **credentials)
    v2 = None if v2_options is None else V2Delivery(clients(endpoint_url, "s3", **credentials), sqs, **v2_options)
    return {
        "sqs_client_for": sqs,
        "firehose_client_for": clients(endpoint_url, "firehose", **credentials),
        "v2_delivery": v2,
    }
