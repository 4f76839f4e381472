"""The state machine's Prepare refuses what ``adsbridge export`` refuses, with the same header check, before it
creates anything at Amazon: a CSV header naming a column twice, a headerless file (never echoed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.integration.export_aws.conftest import ExportMachine

ROOT = Path(__file__).resolve().parents[3]


def settings() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "samples/settings.json").read_text())
    data.update(wait_until_finish=True, max_wait_time=1)
    return data


def test_a_header_naming_a_column_twice_fails_before_any_audience(export_machine: ExportMachine) -> None:
    export_machine.put_input("incoming/crm/twice.csv", b"externalUserId,Email,phone,email \nu1,a@x.com,,b@x.com\n")
    status, report = export_machine.run("incoming/crm/twice.csv", settings())
    assert (status, report["status"]) == ("FAILED", "FAILED")
    assert report["reason"] == "InputError: input: the header names column email twice (columns 2 and 4)"
    assert report["audience_id"] is None
    assert not [r for r in export_machine.emulator.request_log() if r.path.startswith("/amc")]


def test_a_headerless_file_fails_without_its_first_line_in_the_report(export_machine: ExportMachine) -> None:
    export_machine.put_input("incoming/crm/headerless.csv", b"Jim,Lee,Seattle,WA\nAnn,Ray,Boston,MA\n")
    status, report = export_machine.run("incoming/crm/headerless.csv", settings())
    assert (status, report["status"]) == ("FAILED", "FAILED")
    assert "is the header row missing?" in report["reason"]
    assert "jim" not in json.dumps(report).lower() and "seattle" not in json.dumps(report).lower()
    assert report["audience_id"] is None
