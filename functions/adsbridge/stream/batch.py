"""Powertools ``BatchProcessor`` that writes after the per-record pass.

Per record, ``Ingestor.stage`` parses (a bad message fails alone, as usual). Then one ``flush`` writes a
few large objects instead of one small object per message, and every message of a failed write is moved
from success to failure, so the partial batch response makes SQS redeliver exactly those.
"""

from __future__ import annotations

from typing import Any, cast

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from adsbridge.stream.ingest import Ingestor


class StagingBatchProcessor(BatchProcessor):
    def __init__(self, ingestor: Ingestor, **kwargs: Any) -> None:
        # A batch of only poison messages is still a partial response, not an invocation error.
        super().__init__(EventType.SQS, raise_on_entire_batch_failure=False, **kwargs)
        self.ingestor = ingestor

    def process(self) -> list[tuple[Any, ...]]:
        results = super().process()
        failed = self.ingestor.flush()
        succeeded = cast(list[dict[str, Any]], self.success_messages)  # the base class keeps raw records here
        for record in [r for r in succeeded if r["messageId"] in failed]:
            succeeded.remove(record)
            exc = failed[record["messageId"]]  # one exception may be shared by a group: report, don't re-raise
            self.failure_handler(SQSRecord(record), (type(exc), exc, exc.__traceback__))
        return results
