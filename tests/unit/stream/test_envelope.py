"""Raw records, SNS envelopes, confirmations and poison bodies."""

import json

import pytest
from tests.unit.stream.samples import record, text

from adsbridge.stream import envelope


def test_raw_record() -> None:
    parsed = envelope.parse(text("sp-traffic.synthesized.json"))
    assert isinstance(parsed, envelope.Record)
    assert parsed.dataset.id == "sp-traffic"
    assert parsed.fields == record("sp-traffic.synthesized.json")


def test_sns_envelope_yields_the_same_record() -> None:
    parsed = envelope.parse(text("sp-traffic.sns-notification-envelope.synthesized.json"))
    assert isinstance(parsed, envelope.Record)
    assert parsed.fields == record("sp-traffic.synthesized.json")


def test_confirmation() -> None:
    parsed = envelope.parse(text("sns-subscription-confirmation.json"))
    assert parsed == envelope.Confirmation(
        "arn:aws:sns:us-west-2:123456789012:MyTopic",
        "2336412f37...",
        record("sns-subscription-confirmation.json")["SubscribeURL"],
    )


def test_unknown_fields_are_kept() -> None:
    body = {**record("sp-traffic.synthesized.json"), "brand_new_metric": 7, "nested": {"a": [1]}}
    parsed = envelope.parse(json.dumps(body))
    assert isinstance(parsed, envelope.Record)
    assert parsed.fields["brand_new_metric"] == 7 and parsed.fields["nested"] == {"a": [1]}


def test_unsubscribe_confirmation_is_ignored() -> None:
    assert envelope.parse('{"Type": "UnsubscribeConfirmation", "TopicArn": "x"}') == envelope.Ignored(
        "UnsubscribeConfirmation"
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (text("adsp-adgroups.verbatim-INVALID-JSON.txt"), "not JSON"),
        ("[1, 2]", "not an object"),
        ('{"clicks": 1}', "no dataset_id"),
        ('{"dataset_id": "retail-sales-metrics"}', "unknown dataset_id"),
        ('{"Type": "Notification", "Message": "{oops"}', "SNS Message is not JSON"),
        ('{"Type": "SubscriptionConfirmation", "TopicArn": "arn:aws:sns:us-east-1:1:t"}', "without Token"),
        ('{"Type": "SubscriptionConfirmation", "TopicArn": "arn:aws:sns:us-east-1:1:t", "Token": "t"}', "SubscribeURL"),
        # JSON has no NaN or Infinity (RFC 8259); Python reads them, and 1e999 as inf, then writes them back out
        ('{"dataset_id": "sp-traffic", "cost": NaN}', "NaN"),
        ('{"dataset_id": "sp-traffic", "cost": -Infinity}', "Infinity"),
        ('{"dataset_id": "sp-traffic", "cost": 1e999}', "beyond a double"),
        (json.dumps({"Type": "Notification", "Message": '{"dataset_id": "sp-traffic", "clicks": Infinity}'}), "SNS"),
    ],
)
def test_malformed(body: str, reason: str) -> None:
    with pytest.raises(envelope.MalformedMessage, match=reason) as caught:
        envelope.parse(body)
    assert "advertisedProductCategoryIds" not in str(caught.value)  # the body is never echoed
