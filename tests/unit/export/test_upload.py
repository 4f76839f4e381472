"""Batching, counting and the one-batch-in-flight pipeline, with a fake client and a fake reader."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
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
    parse_settings(
        {"amc_instance_id": "a", "country_code": "US", "external_audience_id": "e", "audience_name": "ten chars!"}
    )
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


class Reader:
    """Rows as ``RowReader`` yields them, one unit of offset per row: the offset counts rows read."""

    def __init__(self, rows: Iterable[Row | MalformedRow], start: int = 0) -> None:
        self._rows = rows
        self.offset = start

    def __iter__(self) -> Iterator[Row | MalformedRow]:
        for row in self._rows:
            self.offset += 1
            yield row


def rows(n: int) -> Reader:
    return Reader({"externaluserid": f"u{i}", "email": f"user{i}@example.com"} for i in range(n))


def run(source: Any, client: FakeClient, counters: Counters | None = None, **kwargs: Any) -> Counters:
    counters = counters or Counters()
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
    source = Reader([*rows(3), MalformedRow(5, "bad"), {"externaluserid": "x"}])
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
        upload_rows(Reader(broken()), BUILDER, cast(AudiencesClient, client), TARGET, counters, max_records=100)
    assert counters.job_request_ids == ["job-1"] and counters.uploaded_records == 100


def test_a_failed_post_stops_the_upload_after_counting_earlier_batches() -> None:
    client = FakeClient(fail_on=1)
    counters = Counters()
    with pytest.raises(RuntimeError, match="503"):
        upload_rows(rows(1000), BUILDER, cast(AudiencesClient, client), TARGET, counters, max_records=100)
    assert counters.job_request_ids == ["job-1"]


def mixed(n: int) -> list[Row | MalformedRow]:
    """Valid rows with a skip every 7th row and a malformed one every 11th: skips fall inside batches."""
    out: list[Row | MalformedRow] = []
    for i in range(n):
        if i % 11 == 5:
            out.append(MalformedRow(i, "bad"))
        elif i % 7 == 3:
            out.append({"externaluserid": f"u{i}"})  # no identifier
        else:
            out.append({"externaluserid": f"u{i}", "email": f"user{i}@example.com"})
    return out


def test_each_settled_batch_reports_the_offset_up_to_which_every_row_is_counted() -> None:
    settled: list[tuple[int, Counters]] = []
    source = mixed(500)
    final = run(Reader(source), FakeClient(), max_records=100, on_batch=lambda s: settled.append((s.offset, s.done())))
    offsets = [offset for offset, _ in settled]
    assert offsets == sorted(offsets) and offsets[-1] == len(source)
    for offset, done in settled:  # the offset counts rows here: the counters cover exactly the rows before it
        assert done.total_records == offset == done.uploaded_records + done.skipped_records
        assert done.uploaded_records == sum(done.batch_sizes)
    for offset, _ in settled[:-1]:
        assert "email" in source[offset]  # the next batch starts with its first record, not a skip before it
    assert asdict(settled[-1][1]) == asdict(final)


def test_an_upload_resumed_from_the_last_settled_batch_ends_as_an_uninterrupted_one() -> None:
    source = mixed(1000)
    whole = run(Reader(source), FakeClient(), max_records=100)

    checkpoints: list[tuple[int, Counters]] = []
    failing = FakeClient(fail_on=4)
    with pytest.raises(RuntimeError, match="503"):
        run(Reader(source), failing, max_records=100, on_batch=lambda s: checkpoints.append((s.offset, s.done())))
    offset, done = checkpoints[-1]
    assert done.total_batches == 4 == len(failing.batches)

    again = FakeClient()
    resumed = run(Reader(source[offset:], start=offset), again, Counters.restore(asdict(done)), max_records=100)
    sent = [record for batch in failing.batches + again.batches for record in batch]
    assert len(sent) == len(set(sent)) == whole.uploaded_records  # no record sent twice, none left out
    assert resumed.job_request_ids == done.job_request_ids + [f"job-{i}" for i in range(1, len(again.batches) + 1)]
    for counted in (whole, resumed):
        counted.job_request_ids = []
    assert resumed == whole
