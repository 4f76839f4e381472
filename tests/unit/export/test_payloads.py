"""The job travels through Step Functions as the validated settings model, exactly, and bad settings still read."""

from __future__ import annotations

import json

import pytest

from adsbridge.export.chunks import Layout
from adsbridge.export.payloads import InvalidSettings, JobSpec, RunInfo
from adsbridge.settings import ExportSettings, SettingsError

SETTINGS = {"amc_instance_id": "amc1", "action": "UPDATE", "audience_id": 1234567890123456789,
            "target": "AMC_AND_DSP", "dsp_advertiser_id": "4611686018427387903", "country_code": "us"}  # fmt: skip


def test_the_job_carries_the_settings_model_and_its_ids_survive_a_reader_of_doubles() -> None:
    job = JobSpec(name="crm", settings=SETTINGS)
    assert isinstance(job.settings, ExportSettings) and job.settings.country_code == "US"
    text = json.dumps(job.model_dump(mode="json"))
    assert json.loads(text)["settings"]["audience_id"] == "1234567890123456789"
    for read in (json.loads(text), json.loads(text, parse_int=float)):  # Step Functions, CDK's JavaScript
        assert JobSpec.model_validate(read) == job
    assert job.settings_or_raise().audience_id == 1234567890123456789


def test_bad_settings_read_as_their_problems_so_the_failure_report_can_be_written() -> None:
    given = {**SETTINGS, "country_code": None, "time_to_live": "1"}
    job = JobSpec.model_validate({"name": "crm", "settings": given})
    assert isinstance(job.settings, InvalidSettings) and job.valid_settings is None
    with pytest.raises(SettingsError, match="country_code") as info:
        job.settings_or_raise()
    assert any(problem.startswith("time_to_live") for problem in info.value.problems)
    assert job.model_dump(mode="json")["settings"] == given  # written back as it came


def run_document(etag: str | None = None) -> dict[str, object]:
    layout = Layout(json_lines=False, compressed=False, header="externalUserId,email\n")
    run = RunInfo(run_id="r1", audience_id="1", connection_id="c", to_dsp=False, layout=layout, wait=False,
                  started_at="2026-01-01T00:00:00+00:00", etag=etag)  # fmt: skip
    return run.model_dump(mode="json")


def test_the_run_carries_the_input_etag_its_chunks_read() -> None:
    document = run_document(etag='"9b2cf535f27731c974343645a3985328"')
    assert RunInfo.model_validate(json.loads(json.dumps(document))).etag == '"9b2cf535f27731c974343645a3985328"'


def test_a_run_prepared_before_the_etag_was_recorded_still_reads_with_none() -> None:
    """An execution already running carries ``run`` without ``etag``: its chunks read the input as before."""
    document = run_document()
    del document["etag"]
    assert RunInfo.model_validate(document).etag is None
