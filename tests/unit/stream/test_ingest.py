"""Ingestor with fakes: grouping per partition, added fields, failures scoped to their own messages."""

import gzip
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.unit.stream.samples import record, text

from adsbridge.stream.confirm import UntrustedTopic
from adsbridge.stream.datasets import Realm
from adsbridge.stream.envelope import MalformedMessage
from adsbridge.stream.ingest import Ingestor, QueueMessage
from adsbridge.stream.writer import S3Writer

QUEUE = "arn:aws:sqs:us-east-1:111122223333:ams-"
SENT = datetime(2022, 2, 2, 9, 15, tzinfo=UTC)


class FakeS3:
    def __init__(self, fail_on: str = "") -> None:
        self.objects: dict[str, bytes] = {}
        self.fail_on = fail_on

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, **_: Any) -> None:
        if self.fail_on and self.fail_on in Key:
            raise ConnectionError("injected S3 failure")
        self.objects[Key] = Body

    def lines(self) -> dict[str, list[dict[str, Any]]]:
        return {k: [json.loads(x) for x in gzip.decompress(v).splitlines()] for k, v in self.objects.items()}


class FakeConfirmer:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def confirm(self, region: str, topic_arn: str, token: str) -> str:
        self.calls.append((region, topic_arn, token))
        return "sub"


def ingestor(s3: FakeS3, confirmer: FakeConfirmer | None = None) -> Ingestor:
    return Ingestor(
        writer=S3Writer(s3, "bucket"), confirmer=confirmer or FakeConfirmer(), realm=Realm.NA, queue_prefix="ams-"
    )


def message(i: int, body: str, dataset: str = "sp-traffic") -> QueueMessage:
    return QueueMessage(f"m{i}", body, QUEUE + dataset, SENT)


def with_window(window: str, **extra: Any) -> str:
    return json.dumps({**record("sp-traffic.synthesized.json"), "time_window_start": window, **extra})


def test_one_object_per_partition_with_every_field_plus_ours() -> None:
    s3 = FakeS3()
    ing = ingestor(s3)
    ing.stage(message(1, with_window("2022-02-01T10:00:00-08:00", surprise={"new": 1})))
    ing.stage(message(2, with_window("2022-02-01T10:00:00-08:00")))
    ing.stage(message(3, with_window("2022-02-01T11:00:00-08:00")))
    ing.stage(message(4, text("campaigns.json"), "campaigns"))
    assert ing.flush() == {}
    objects = s3.lines()
    by_prefix = {key.rsplit("/", 1)[0]: rows for key, rows in objects.items()}
    assert set(by_prefix) == {
        "dataset=sp-traffic/dt=2022-02-01/hour=18",
        "dataset=sp-traffic/dt=2022-02-01/hour=19",
        "dataset=campaigns/dt=2022-02-02/hour=09",
    }
    first = by_prefix["dataset=sp-traffic/dt=2022-02-01/hour=18"][0]
    assert first == {
        **record("sp-traffic.synthesized.json"),
        "surprise": {"new": 1},
        "_received_at": "2022-02-02T09:15:00.000+00:00",
        "_message_id": "m1",
        "_realm": "NA",
    }
    assert ing.counts["ObjectsWritten"] == 3 and ing.counts["RecordsWritten"] == 4
    assert all(key.endswith(".json.gz") for key in objects)


def test_the_same_messages_overwrite_the_same_key() -> None:
    keys = []
    for _ in range(2):
        s3 = FakeS3()
        ing = ingestor(s3)
        for i in (2, 1):
            ing.stage(message(i, text("sp-traffic.synthesized.json")))
        ing.flush()
        keys.append(set(s3.objects))
    assert keys[0] == keys[1]


def test_a_failed_write_fails_only_its_messages() -> None:
    s3 = FakeS3(fail_on="hour=19")
    ing = ingestor(s3)
    ing.stage(message(1, with_window("2022-02-01T10:00:00-08:00")))
    ing.stage(message(2, with_window("2022-02-01T11:00:00-08:00")))
    ing.stage(message(3, with_window("2022-02-01T11:00:00-08:00")))
    failed = ing.flush()
    assert set(failed) == {"m2", "m3"}
    assert all(isinstance(e, ConnectionError) for e in failed.values())
    assert [k.split("/")[2] for k in s3.objects] == ["hour=18"]
    assert ing.counts["WriteFailures"] == 1


def test_half_an_emoji_is_kept_as_its_json_escape() -> None:
    """A lone surrogate parses from JSON but cannot be UTF-8: it must not send the message to the DLQ."""
    s3 = FakeS3()
    ing = ingestor(s3)
    ing.stage(message(1, with_window("2022-02-01T10:00:00-08:00", keyword_text="shoes \ud83d")))
    assert ing.flush() == {}
    [rows] = s3.lines().values()
    assert rows[0]["keyword_text"] == "shoes \ud83d"


def test_truncated_payloads_are_kept_and_counted() -> None:
    s3 = FakeS3()
    ing = ingestor(s3)
    body = json.loads(text("adsp-adgroup-targets.app.json"))
    body["appTargets"] = "PAYLOAD_TRUNCATED"
    ing.stage(message(1, json.dumps(body), "adsp-adgroup-targets"))
    ing.flush()
    assert ing.counts["TruncatedPayloads"] == 1
    [rows] = s3.lines().values()
    assert rows[0]["appTargets"] == "PAYLOAD_TRUNCATED"


AMAZON_TOPIC = "arn:aws:sns:us-east-1:906013806264:AmazonTopic"  # sp-traffic's NA publisher


def amazon_confirmation(**changes: str) -> dict[str, str]:
    """Amazon's documented confirmation, for sp-traffic's NA topic as SNS would write it (``changes`` forge it)."""
    body: dict[str, str] = json.loads(text("sns-subscription-confirmation.json"))
    body["TopicArn"] = AMAZON_TOPIC
    body["SubscribeURL"] = (
        f"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={AMAZON_TOPIC}&Token={body['Token']}"
    )
    return {**body, **changes}


def test_confirms_amazons_topic_for_the_queues_dataset() -> None:
    confirmer = FakeConfirmer()
    ing = ingestor(FakeS3(), confirmer)
    body = amazon_confirmation()
    ing.stage(message(1, json.dumps(body), "sp-traffic"))
    assert confirmer.calls == [("us-east-1", body["TopicArn"], body["Token"])]
    with pytest.raises(UntrustedTopic):  # same topic arriving on the sd-traffic queue
        ing.stage(message(2, json.dumps(body), "sd-traffic"))
    with pytest.raises(UntrustedTopic):  # the docs' sample topic is not Amazon's
        ing.stage(message(3, text("sns-subscription-confirmation.json"), "sp-traffic"))
    assert len(confirmer.calls) == 1


def test_message_from_an_unknown_queue_is_refused() -> None:
    ing = ingestor(FakeS3())
    body = text("sns-subscription-confirmation.json")
    with pytest.raises(MalformedMessage, match="not a stream queue"):
        ing.stage(QueueMessage("m", body, "arn:aws:sqs:us-east-1:1:other-sp-traffic", SENT))
    with pytest.raises(MalformedMessage, match="no known dataset"):
        ing.stage(QueueMessage("m", body, "arn:aws:sqs:us-east-1:1:ams-nope", SENT))


@pytest.mark.parametrize(
    "forged",
    [
        {"SubscribeURL": f"https://sns.example.net/?Action=ConfirmSubscription&TopicArn={AMAZON_TOPIC}&Token=x"},
        {"SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:"
         "us-east-1:906013806264:OtherTopic&Token=2336412f37..."},
    ],
)  # fmt: skip
def test_a_genuine_topic_with_a_foreign_subscribe_url_is_not_confirmed(forged: dict[str, str]) -> None:
    confirmer = FakeConfirmer()
    ing = ingestor(FakeS3(), confirmer)
    with pytest.raises(UntrustedTopic, match="SubscribeURL"):
        ing.stage(message(1, json.dumps(amazon_confirmation(**forged)), "sp-traffic"))
    assert confirmer.calls == [] and ing.counts["ConfirmationsRefused"] == 1


def test_a_record_on_another_datasets_queue_is_refused() -> None:
    """Filed under its own dataset_id it would land where nobody subscribed to it; the DLQ shows it instead."""
    s3 = FakeS3()
    ing = ingestor(s3)
    with pytest.raises(MalformedMessage, match="sp-traffic record on the sd-traffic queue"):
        ing.stage(message(1, text("sp-traffic.synthesized.json"), "sd-traffic"))
    assert ing.flush() == {} and s3.objects == {}


def test_a_record_outside_the_projection_is_refused() -> None:
    s3 = FakeS3()
    ing = ingestor(s3)
    with pytest.raises(MalformedMessage, match="partition projection"):
        ing.stage(message(1, with_window("2099-02-01T10:00:00-08:00")))
    assert ing.flush() == {} and s3.objects == {}
