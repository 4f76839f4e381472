"""Stream v2 catalog Lambda: an SQS batch of file notifications → Glue partitions and columns (stream/v2/catalog.py).

Environment: ``V2CatalogEnvironment`` (the Glue database holding one table per v2 dataset). A notification that cannot be
catalogued fails alone (partial batch response); SQS redelivers it and, after the queue's receive limit, moves it
to the dead-letter queue. Its reason is a metric and a log line without the message's contents.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.typing import LambdaContext

from adsbridge import METRICS_NAMESPACE
from adsbridge.stream.handlers.batch_response import counted_partial_response
from adsbridge.stream.handlers.environment import V2CatalogEnvironment
from adsbridge.stream.v2.catalog import Catalog

logger = Logger()
metrics = Metrics(namespace=METRICS_NAMESPACE)


@cache
def _clients() -> tuple[Any, Any]:
    return boto3.client("glue"), boto3.client("s3")


def handle(event: dict[str, Any], context: LambdaContext, catalog: Catalog) -> dict[str, Any]:
    processor = BatchProcessor(EventType.SQS, raise_on_entire_batch_failure=False)
    return counted_partial_response(
        event, context, processor, lambda record: catalog.catalogue(record.body), catalog.counts, metrics
    )


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    glue, s3 = _clients()
    return handle(
        event, context, Catalog(glue=glue, s3=s3, database=V2CatalogEnvironment.from_environ().database, log=logger)
    )
