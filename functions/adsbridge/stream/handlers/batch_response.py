"""An SQS batch through a record handler with Powertools' partial batch response, its counts as metrics.

The stream's SQS consumers (v1 ingest, v2 catalog) report the same way: each failed message alone goes back to
the queue (and, past the receive limit, to its dead-letter queue), and what the batch did becomes metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BasePartialBatchProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext


def counted_partial_response(
    event: dict[str, Any],
    context: LambdaContext,
    processor: BasePartialBatchProcessor,
    record_handler: Callable[[SQSRecord], Any],
    counts: Mapping[str, int],
    metrics: Metrics,
) -> dict[str, Any]:
    """Process the batch; then every count (read after processing) and ``MessagesFailed`` become metrics."""
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    for name, count in counts.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=count)
    metrics.add_metric(name="MessagesFailed", unit=MetricUnit.Count, value=len(processor.fail_messages))
    return dict(response)
