"""Rows → records → batches → ``POST /amc/audiences/records``, paced under Amazon's hourly limit.

Batches hold at most 6,000 records (Amazon's guidance) and at most ``max_batch_bytes`` of JSON (no byte
limit is documented; the cap is a conservative UNVERIFIED guess). One batch is in memory at a time.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from adsbridge.ads.audiences import AudiencesClient
from adsbridge.export.prepare import Target
from adsbridge.export.records import RecordBuilder, Skip
from adsbridge.export.report import Counters
from adsbridge.export.source import MalformedRow, Rows

MAX_BATCH_RECORDS = 6_000
MAX_BATCH_BYTES = 4 * 1024 * 1024
RECORDS_PER_HOUR_LIMIT = 15_000_000  # per connectionId (docs/amc-audiences-api.md#limits)


class Pacer:
    """Keeps records sent in any sliding hour under ``records_per_hour`` (sleeps when the next batch would not).

    Exact over a sliding window, unlike a token bucket whose burst plus refill can reach twice the limit.
    """

    def __init__(
        self,
        records_per_hour: int = int(RECORDS_PER_HOUR_LIMIT * 0.9),
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        window: float = 3600.0,
    ) -> None:
        self.records_per_hour = records_per_hour
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[tuple[float, int]] = deque()
        self._in_window = 0
        self.waited = 0.0

    def before(self, records: int) -> None:
        while True:
            now = self._clock()
            while self._sent and self._sent[0][0] <= now - self.window:
                self._in_window -= self._sent.popleft()[1]
            if not self._sent or self._in_window + records <= self.records_per_hour:
                break
            pause = self._sent[0][0] + self.window - now
            self.waited += pause
            self._sleep(pause)
        self._sent.append((now, records))
        self._in_window += records


@dataclass(frozen=True)
class Settled:
    """A batch Amazon accepted (passed to ``on_batch``), and how far into the input its rows reach.

    ``counters`` are live: they may already count skipped rows read for the next batch. ``done()`` counts
    only the rows before ``offset``, which is what a resumed upload takes as finished.
    """

    counters: Counters
    offset: int  # the reader's offset just past the last row this batch (or a skip before it) came from
    skipped_by_reason: dict[str, int]  # the skips before ``offset``

    def done(self) -> Counters:
        """A copy of the totals of exactly the rows before ``offset``; valid while ``on_batch`` runs."""
        live = self.counters
        return Counters(
            total_records=live.uploaded_records + sum(self.skipped_by_reason.values()),
            uploaded_records=live.uploaded_records,
            skipped_by_reason=dict(self.skipped_by_reason),
            total_batches=live.total_batches,
            job_request_ids=list(live.job_request_ids),
            batch_sizes=list(live.batch_sizes),
        )


def upload_rows(
    rows: Rows,
    builder: RecordBuilder,
    client: AudiencesClient,
    target: Target,
    counters: Counters,
    *,
    pacer: Pacer | None = None,
    max_records: int = MAX_BATCH_RECORDS,
    max_bytes: int = MAX_BATCH_BYTES,
    on_batch: Callable[[Settled], None] | None = None,
) -> None:
    """Upload every valid row of ``rows``; counts every row, uploaded or skipped, in ``counters``.

    One batch is in flight on a worker thread while the next is built, so hashing and the API's latency
    overlap; at most two batches are in memory. ``on_batch`` runs after a batch's POST returned, before the
    next is sent. A failed POST raises here, after the batches before it have been counted.
    """
    pacer = pacer or Pacer()
    resource = target.target_resource()
    batch: list[bytes] = []
    size = 0
    in_flight: tuple[Future[str], int, int, dict[str, int]] | None = None

    def settle() -> None:
        nonlocal in_flight
        if in_flight is None:
            return
        future, records, offset, skipped = in_flight
        in_flight = None
        counters.job_request_ids.append(future.result())
        counters.total_batches += 1
        counters.batch_sizes.append(records)
        counters.uploaded_records += records
        counters.total_records += records
        if on_batch is not None:
            on_batch(Settled(counters, offset, skipped))

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="adsbridge-upload") as pool:

        def flush(offset: int) -> None:
            nonlocal batch, size, in_flight
            settle()
            pacer.before(len(batch))
            future = pool.submit(client.upload_records, target.audience_id, batch, resource)
            in_flight = (future, len(batch), offset, dict(counters.skipped_by_reason))
            batch, size = [], 0

        try:
            end = rows.offset  # just past the last row already batched or skipped
            for row in rows:
                record = Skip("malformed_row") if isinstance(row, MalformedRow) else builder.build(row)
                if isinstance(record, Skip):
                    counters.skip(record)
                else:
                    if batch and (len(batch) >= max_records or size + len(record) + 1 > max_bytes):
                        flush(end)
                    batch.append(record)
                    size += len(record) + 1
                end = rows.offset
            if batch:
                flush(rows.offset)  # past trailing blank lines, too: the reader is exhausted
        finally:
            settle()  # a batch already sent is counted (and its job id kept) even when reading failed
