"""Marketing Stream v1 delivery to a Firehose destination, as Amazon's SNS topic does with the subscription role:
``PutRecordBatch`` on the subscription's delivery stream, one bare JSON record per Firehose record.

The bare record (no SNS envelope, no delimiter: the stream's own processor appends the newline) is what the
stack's Firehose queries assume, UNVERIFIED, in ``infra/stream/firehose.py``. moto's Firehose writes each call's
records at once into one S3 object; see ``tests/integration/emulator/test_emulator_firehose.py`` for what it
does and does not do with the stack's settings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .streams import DeliveryError, batches

MAX_RECORDS = 500  # PutRecordBatch limits
MAX_BYTES = 4 * 1024 * 1024


class FirehoseDelivery:
    """Puts records on the delivery stream an ARN names; ``client_for(region)`` builds a boto3 Firehose client.

    Entries a batch answers with an ``ErrorCode`` are resent up to ``attempts`` times in all, then
    :class:`DeliveryError` says how many were not delivered.
    """

    def __init__(self, client_for: Callable[[str], Any], *, attempts: int = 3) -> None:
        self._client_for = client_for
        self._attempts = attempts

    def put(self, stream_arn: str, records: Sequence[bytes]) -> None:
        region, name = stream_arn.split(":")[3], stream_arn.rsplit("/", 1)[1]
        client = self._client_for(region)
        for group in batches(records, MAX_RECORDS, MAX_BYTES):
            pending = list(group)
            for _ in range(self._attempts):
                answer = client.put_record_batch(DeliveryStreamName=name, Records=[{"Data": r} for r in pending])
                pending = _failed(pending, answer)
                if not pending:
                    break
            if pending:
                raise DeliveryError(f"{len(pending)} record(s) to {stream_arn} not delivered", len(pending))


def _failed(sent: list[bytes], answer: Mapping[str, Any]) -> list[bytes]:
    if not answer.get("FailedPutCount"):
        return []
    return [r for r, response in zip(sent, answer["RequestResponses"], strict=True) if response.get("ErrorCode")]
