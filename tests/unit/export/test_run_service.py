"""The run service both drivers share: nothing is created at Amazon for input that cannot be exported, and the
status of a finished run is decided in one place."""

from __future__ import annotations

from typing import Any, cast

import pytest

from adsbridge.ads.audiences import AudiencesClient, JobStatus
from adsbridge.export.run import ready_target, settle
from adsbridge.export.source import InputError
from adsbridge.settings import parse_settings

SETTINGS = parse_settings({"amc_instance_id": "amc1", "country_code": "US", "external_audience_id": "crm-1",
                           "audience_name": "High value customers"})  # fmt: skip


class NoCalls:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"Amazon was called ({name}) for a run that must send nothing")


class Stopped(Exception):
    pass


def stop() -> None:
    raise Stopped


def test_a_header_without_the_columns_needed_is_refused_before_anything_at_amazon() -> None:
    with pytest.raises(InputError, match="externaluserid"):
        ready_target(SETTINGS, cast(AudiencesClient, NoCalls()), ["email"], accept_terms=False, registry=None,
                     before_prepare=stop)  # fmt: skip


def test_a_stop_between_the_header_check_and_prepare_sends_nothing() -> None:
    with pytest.raises(Stopped):
        ready_target(SETTINGS, cast(AudiencesClient, NoCalls()), ["externaluserid", "email"], accept_terms=False,
                     registry=None, before_prepare=stop)  # fmt: skip


def test_a_run_that_does_not_wait_is_uploaded_whatever_amazon_said_so_far() -> None:
    failed = {"j1": JobStatus("j1", "FAILED")}
    assert settle(failed, wait=False, finished=False) == ("UPLOADED", None)
    assert settle(failed, wait=True, finished=True) == ("FAILED", "Amazon failed every upload job")
    assert settle({}, wait=True, finished=False)[0] == "TIMED_OUT"
