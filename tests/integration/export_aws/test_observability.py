"""What the handlers print while exporting: never a row's contents, and the Report step's metrics (EMF)."""

from __future__ import annotations

import io
import json

import pytest
from tests.integration.export_aws.conftest import ExportMachine
from tests.integration.export_aws.test_state_machine import settings

from adsbridge.export.handlers.runtime import logger

CANARIES = ("Zebulonia", "Quillfeather", "zebulonia.quillfeather@canary-pii.test", "2065550187",
            "77 Xylophone Canaryway", "Snohomishville", "cust-canary-0001")  # fmt: skip
ROWS = (
    "externalUserId,email,phone,firstname,lastname,address,city,state,postal,countrycode\n"
    "cust-canary-0001,zebulonia.quillfeather@canary-pii.test,(206) 555-0187,Zebulonia,Quillfeather,"
    "77 Xylophone Canaryway,Snohomishville,WA,98101,US\n"
    "cust-canary-0002,not-an-email,,Zebulonia,,,,,,ZZ\n"  # a skipped row: its values must not be logged either
)


def test_handlers_log_counts_never_rows_and_report_emits_metrics(
    export_machine: ExportMachine,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logs = io.StringIO()  # the Powertools handler keeps the stdout it saw at import, so point it here
    monkeypatch.setattr(logger.registered_handler, "stream", logs)
    export_machine.put_input("incoming/crm/canary.csv", ROWS.encode())
    status, report = export_machine.run("incoming/crm/canary.csv", settings())
    assert status == "SUCCEEDED", report["reason"]
    out = capsys.readouterr()  # metrics are printed (EMF) at flush time
    printed = logs.getvalue() + out.out + out.err + caplog.text
    assert '"message":"chunk done"' in printed  # the handlers did log
    for canary in CANARIES:
        assert canary.lower() not in printed.lower()
    [emf] = [json.loads(line) for line in out.out.splitlines() if line.startswith('{"_aws"')]
    [directive] = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "adsbridge" and emf["job"] == "crm"
    assert {m["Name"] for m in directive["Metrics"]} == {
        "RecordsUploaded", "RecordsSkipped", "RecordsInvalid", "DurationSeconds", "ExportsFailed"}  # fmt: skip
    assert (emf["RecordsUploaded"], emf["RecordsSkipped"], emf["ExportsFailed"]) == ([1.0], [1.0], [0.0])
