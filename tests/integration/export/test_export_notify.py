"""The Notify Lambda against moto S3 and SNS: what a finished execution publishes (read from an SQS queue
subscribed to the topic) and the failure report it writes for an execution stopped by hand or by timeout."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from adsbridge.export.handlers import notify as handler
from adsbridge.export.handlers.environment import NotifyEnvironment
from adsbridge_sandbox.local_lambda import LocalContext

REGION = "us-east-1"
BUCKET = "adsbridge-test-state"
MACHINE = f"arn:aws:states:{REGION}:123456789012:stateMachine:AdsbridgeExport-export"
PREPARED = {
    "run": {"run_id": "r1", "audience_id": "123456789012345678", "connection_id": "c1", "to_dsp": False,
            "layout": {"json_lines": False, "compressed": False, "header": "email\n"}, "wait": True,
            "started_at": "2026-06-01T00:00:05+00:00"},
    "chunks": [{"index": 0, "start": 0, "end": 100}],
}  # fmt: skip
PROGRESS = {"index": 0, "offset": 50, "total_records": 4, "uploaded_records": 3, "total_batches": 1,
            "skipped_by_reason": {"invalid_email": 1}, "job_request_ids": ["j1"], "batch_sizes": [3]}  # fmt: skip


class Aws:
    def __init__(self) -> None:
        self.s3 = boto3.client("s3", region_name=REGION)
        self.s3.create_bucket(Bucket=BUCKET)
        sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
        self.topic = sns.create_topic(Name="alarms")["TopicArn"]
        self.sqs = sqs
        self.queue = sqs.create_queue(QueueName="mailbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=self.topic, Protocol="sqs", Endpoint=queue_arn)

    def put(self, key: str, document: dict[str, Any]) -> None:
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(document).encode())

    def report(self, key: str) -> dict[str, Any]:
        return json.loads(self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())  # type: ignore[no-any-return]

    def received(self) -> list[dict[str, str]]:
        """Every notification published so far (SNS's envelope: Subject, Message)."""
        found = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in found]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    with mock_aws():
        found = Aws()
        for name, value in NotifyEnvironment.variables(
            state_bucket=BUCKET, alarm_topics=json.dumps([found.topic])
        ).items():
            monkeypatch.setenv(name, value)
        handler.clients.cache_clear()
        yield found
        handler.clients.cache_clear()


def finished(status: str, name: str = "run-1", notify: str = "failure", output: Any = None, **detail: Any) -> Any:
    job = {"name": "crm", "settings": {"action": "CREATE"}, "secret_name": "adsbridge/acct", "notify": notify}
    execution_input = {"job": job, "source": {"bucket": "in", "key": "incoming/crm/a.csv"}}
    return {
        "source": "aws.states", "detail-type": "Step Functions Execution Status Change",
        "detail": {"executionArn": f"{MACHINE.replace('stateMachine', 'execution')}:{name}", "stateMachineArn": MACHINE,
                   "name": name, "status": status, "input": json.dumps(execution_input),
                   "output": None if output is None else json.dumps(output),
                   "startDate": int(datetime(2026, 6, 1, tzinfo=UTC).timestamp() * 1000),
                   "stopDate": int(datetime(2026, 6, 1, 0, 5, tzinfo=UTC).timestamp() * 1000), **detail},
    }  # fmt: skip


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    return handler.lambda_handler(event, LocalContext(function_name="Notify"))  # type: ignore[no-any-return]


def test_a_failed_execution_with_its_report_sends_one_message_without_data_values(aws: Aws) -> None:
    aws.put("reports/crm/run-1.json", {"status": "FAILED", "reason": "InputError: bad value 'jane@example.com'",
                                       "total_records": 4, "uploaded_records": 3, "skipped_records": 1,
                                       "audience_id": 123456789012345678, "job": "crm"})  # fmt: skip
    outcome = invoke(finished("FAILED", error="ExportFailed", cause="the export failed"))
    [received] = aws.received()
    assert outcome["notified"] and received["Subject"] == "adsbridge export crm FAILED"
    body = received["Message"]
    assert "Report status: FAILED" in body and "Uploaded records: 3" in body
    assert "Audience ID: 123456789012345678" in body
    assert f"Report: s3://{BUCKET}/reports/crm/run-1.json" in body
    assert "jane@example.com" not in body


def test_an_aborted_execution_without_a_report_gets_one_written_from_its_checkpoints(aws: Aws) -> None:
    aws.put("checkpoints/crm/r1/claim.json", {"execution": "run-1", "execution_arn": None})
    aws.put("checkpoints/crm/r1/prepared.json", PREPARED)
    aws.put("checkpoints/crm/r1/progress/000000.json", PROGRESS)
    aws.put("checkpoints/crm/r0/claim.json", {"execution": "older-run", "execution_arn": None})
    outcome = invoke(finished("ABORTED", startDate=0))
    assert outcome["report_written"] and outcome["notified"]
    report = aws.report("reports/crm/run-1.json")
    assert report["status"] == "FAILED" and report["reason"].startswith("ABORTED")
    assert report["execution"] == "run-1" and report["run_id"] == "r1"
    assert report["audience_id"] == 123456789012345678
    assert report["uploaded_records"] == 3 and report["job_request_ids"] == ["j1"]  # what reached Amazon
    [received] = aws.received()
    assert received["Subject"] == "adsbridge export crm ABORTED" and "Execution status: ABORTED" in received["Message"]


def test_a_timed_out_execution_before_any_checkpoint_gets_a_status_only_report(aws: Aws) -> None:
    outcome = invoke(finished("TIMED_OUT", name="run-2", error="States.Timeout"))
    report = aws.report("reports/crm/run-2.json")
    assert outcome["report_written"] and report["status"] == "FAILED" and report["run_id"] is None
    assert report["reason"] == "TIMED_OUT: States.Timeout" and report["total_records"] == 0
    [received] = aws.received()
    assert received["Subject"] == "adsbridge export crm TIMED_OUT"


def test_a_success_notifies_only_when_the_job_asks(aws: Aws) -> None:
    aws.put("reports/crm/run-1.json", {"status": "SUCCEEDED", "reason": None, "total_records": 4,
                                       "uploaded_records": 4, "audience_id": 7})  # fmt: skip
    output = {"report": {"status": "SUCCEEDED"}}
    assert not invoke(finished("SUCCEEDED", output=output))["notified"]
    assert aws.received() == []
    assert invoke(finished("SUCCEEDED", notify="always", output=output))["notified"]
    [received] = aws.received()
    assert received["Subject"] == "adsbridge export crm SUCCEEDED" and "Uploaded records: 4" in received["Message"]


def test_a_duplicate_scheduled_instant_sends_nothing(aws: Aws) -> None:
    output = {"job": {"name": "crm"}, "scheduled_time": "2026-06-01T00:00:00Z", "schedule_claim": {"claimed": False}}
    outcome = invoke(finished("SUCCEEDED", name="dup", notify="always", output=output))
    assert not outcome["notified"] and not outcome["report_written"]
    assert aws.received() == []
