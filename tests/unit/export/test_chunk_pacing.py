"""Each chunk's pace is its share of Amazon's per-connection limit among the chunks that can run at once."""

from __future__ import annotations

import pytest

from adsbridge.export.steps import Services, chunk_pacer
from adsbridge.export.upload import RECORDS_PER_HOUR_LIMIT


@pytest.mark.parametrize(
    ("concurrency", "chunks", "sharing"),
    [(10, 1, 1), (10, 4, 4), (2, 5, 2), (1, 1, 1)],
    ids=["one-chunk file gets it all", "fewer chunks than slots", "more chunks than slots", "serial"],
)
def test_a_chunk_shares_the_limit_with_the_chunks_that_run_at_once(concurrency: int, chunks: int, sharing: int) -> None:
    services = Services(s3=None, state_bucket="state", ads=lambda job, settings: None)  # type: ignore[arg-type,return-value]
    pacer = chunk_pacer(concurrency, chunks, services)
    assert pacer.window == 60
    assert pacer.records_per_hour == int(RECORDS_PER_HOUR_LIMIT * 0.9 / sharing / 60)
