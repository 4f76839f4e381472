"""Stream v2 delivery in the emulator: Amazon's PublisherRole writing a subscription's Parquet files into its bucket
and one notification per file into its queue, through boto3 clients (moto's in tests and the demo).

When a subscription becomes ACTIVE the emulator delivers, in a thread of its own as Amazon does after answering:
the initial history (one file per hour for ``history_days`` days before its clock's hour; Amazon sends 70),
``live_hours`` hourly files (the last one with a grown schema), and the first live hour restated twice, the newer
version first (``adsbridge_sandbox.stream_v2_files.scenario``). Time is compressed: every file lands at once.
Archiving the subscription stops the delivery before its next file. Files, keys and notification bodies are
amazon.py's UNVERIFIED assumptions, through the sandbox's writer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

from adsbridge_sandbox import stream_v2_files as files

from .streams import SqsDelivery
from .streams_v2 import HISTORY_DAYS

log = logging.getLogger(__name__)


class V2Delivery:
    """Delivers v2 files for subscriptions; ``s3_client_for`` and ``sqs_client_for`` build a client per region."""

    def __init__(
        self,
        s3_client_for: Callable[[str], Any],
        sqs_client_for: Callable[[str], Any],
        *,
        plan: files.Plan | None = None,
        history_days: int = HISTORY_DAYS,
        live_hours: int = 2,
        seed: int = 0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._s3_client_for = s3_client_for
        self._sqs = SqsDelivery(sqs_client_for)
        self.plan, self.history_days, self.live_hours = plan or files.Plan(), history_days, live_hours
        self.seed, self.clock = seed, clock

    def start(self, destination: Mapping[str, Any], active: Callable[[], bool]) -> Future[files.Delivery]:
        """Deliver in a daemon thread; the future holds what landed (or the error that stopped it)."""
        future: Future[files.Delivery] = Future()

        def run() -> None:
            try:
                future.set_result(self.deliver(destination, active))
            except Exception as exc:  # reported through the future, and logged without the destination
                log.warning("emulator: v2 delivery stopped: %s", type(exc).__name__)
                future.set_exception(exc)

        threading.Thread(target=run, name="adsbridge-emulator-v2-delivery", daemon=True).start()
        return future

    def deliver(self, destination: Mapping[str, Any], active: Callable[[], bool]) -> files.Delivery:
        """Every file of the scenario in arrival order while ``active()``; returns the files that landed."""
        queue_arn = str(destination["notification"]["queueArn"])
        bucket = str(destination["bucketArn"]).split(":::", 1)[1]
        s3 = self._s3_client_for(queue_arn.split(":")[3])  # the bucket is in the queue's region (one template)
        writer = files.Writer(s3, bucket, lambda body: self._sqs.send(queue_arn, body))
        planned = files.scenario(self.plan, self.seed, self.clock(), self.history_days, self.live_hours)
        landed = []
        for file in planned.files:
            if not active():
                break
            writer.deliver(file)
            landed.append(file)
        return files.Delivery(landed)
