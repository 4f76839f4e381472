"""Only Amazon's topic for the queue's dataset, in the realm's region, is confirmed; via the API, never a URL."""

from typing import Any

import pytest

from adsbridge.stream import datasets
from adsbridge.stream.confirm import SnsConfirmer, UntrustedTopic, check_topic
from adsbridge.stream.datasets import Realm

SP_TRAFFIC = datasets.get("sp-traffic")


def test_amazons_topic_is_trusted() -> None:
    arn = "arn:aws:sns:eu-west-1:668473351658:some-topic"
    assert check_topic(arn, realm=Realm.EU, dataset=SP_TRAFFIC) == "eu-west-1"


@pytest.mark.parametrize(
    ("arn", "why"),
    [
        ("arn:aws:sns:us-west-2:123456789012:MyTopic", "region"),  # the docs' sample, in an NA queue
        ("arn:aws:sns:us-east-1:123456789012:MyTopic", "account"),
        ("arn:aws:sns:us-east-1:370941301809:t", "account"),  # Amazon's, but sd-traffic's
        ("arn:aws:sns:eu-west-1:668473351658:t", "region"),  # sp-traffic's EU account, in NA
        ("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription", "not an SNS topic"),
    ],
)
def test_other_topics_are_refused(arn: str, why: str) -> None:
    with pytest.raises(UntrustedTopic, match=why):
        check_topic(arn, realm=Realm.NA, dataset=SP_TRAFFIC)


class FakeSns:
    def __init__(self, region: str) -> None:
        self.region = region
        self.calls: list[dict[str, Any]] = []

    def confirm_subscription(self, **kwargs: Any) -> dict[str, str]:
        self.calls.append(kwargs)
        return {"SubscriptionArn": f"{kwargs['TopicArn']}:sub"}


def test_confirmer_uses_a_client_in_the_topics_region() -> None:
    clients: dict[str, FakeSns] = {}
    confirmer = SnsConfirmer(lambda region: clients.setdefault(region, FakeSns(region)))
    arn = "arn:aws:sns:us-west-2:074266271188:t"
    assert confirmer.confirm("us-west-2", arn, "tok") == f"{arn}:sub"
    assert list(clients) == ["us-west-2"]
    assert clients["us-west-2"].calls == [{"TopicArn": arn, "Token": "tok", "AuthenticateOnUnsubscribe": "true"}]
