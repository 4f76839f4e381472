"""Batching, counting and the one-batch-in-flight pipeline, with a fake client."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, cast

import pytest

from adsbridge.ads.audiences import AudiencesClient
from adsbridge.export.prepare import Target
from adsbridge.export.records import RecordBuilder
from adsbridge.export.report import Counters
from adsbridge.export.source import MalformedRow, Row
from adsbridge.export.upload import Pacer, upload_rows
from adsbridge.settings import parse_settings

BUILDER = RecordBuilder(
    parse_settings({"amc_instance_id": "a", "country_code": "US", "external_audience_id": "e", "audience_name": "n"})
)
TARGET = Target(audience_id=361054992504331123, connection_id="c-1", to_dsp=True)


class FakeClient:
    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[Sequence[bytes]] = []
        self.resources: list[Any] = []
        self.fail_on = fail_on

    def upload_records(self, audience_id: int, records: Sequence[bytes], resource: Any) -> str:
        assert audience_id == TARGET.audience_id
        if self.fail_on is not None and len(self.batches) == self.fail_on:
            raise RuntimeError("HTTP 503")
        self.batches.append(list(records))
        self.resources.append(resource)
        return f"job-{len(self.batches)}"


def rows(n: int) -> Iterator[Row | MalformedRow]:
    for i in range(n):
        yield {"externaluserid": f"u{i}", "email": f"user{i}@example.com"}


def run(source: Any, client: FakeClient, **kwargs: Any) -> Counters:
    counters = Counters()
    upload_rows(source, BUILDER, cast(AudiencesClient, client), TARGET, counters, pacer=Pacer(10**9), **kwargs)
    return counters


def test_batches_respect_record_and_byte_caps() -> None:
    client = FakeClient()
    counters = run(rows(250), client, max_records=100)
    assert [len(b) for b in client.batches] == [100, 100, 50]
    assert counters.job_request_ids == ["job-1", "job-2", "job-3"]
    assert client.resources[0] == {"connectionId": "c-1", "targetTypes": ["DSP"]}
    by_bytes = FakeClient()
    run(rows(250), by_bytes, max_bytes=len(client.batches[0][0]) * 10 + 20)
    assert max(len(b) for b in by_bytes.batches) <= 10 and sum(len(b) for b in by_bytes.batches) == 250


def test_every_row_is_counted() -> None:
    source = [*rows(3), MalformedRow(5, "bad"), {"externaluserid": "x"}]
    counters = run(source, FakeClient())
    assert counters.total_records == 5 == counters.uploaded_records + counters.skipped_records
    assert counters.skipped_by_reason == {"malformed_row": 1, "no_usable_identifier": 1}


def test_a_batch_already_sent_is_counted_when_reading_fails() -> None:
    def broken() -> Iterator[Row | MalformedRow]:
        yield from rows(150)
        raise OSError("connection reset while reading the input")

    client = FakeClient()
    counters = Counters()
    with pytest.raises(OSError):
        upload_rows(broken(), BUILDER, cast(AudiencesClient, client), TARGET, counters, max_records=100)
    assert counters.job_request_ids == ["job-1"] and counters.uploaded_records == 100


def test_a_failed_post_stops_the_upload_after_counting_earlier_batches() -> None:
    client = FakeClient(fail_on=1)
    counters = Counters()
    with pytest.raises(RuntimeError, match="503"):
        upload_rows(rows(1000), BUILDER, cast(AudiencesClient, client), TARGET, counters, max_records=100)
    assert counters.job_request_ids == ["job-1"]
