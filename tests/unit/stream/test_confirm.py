"""Only Amazon's topic for the queue's dataset, in the realm's region, is confirmed; via the API, never a URL."""

from typing import Any

import pytest

from adsbridge.stream import datasets
from adsbridge.stream.confirm import SnsConfirmer, UntrustedTopic, check_confirmation, check_topic
from adsbridge.stream.datasets import Realm
from adsbridge.stream.envelope import Confirmation

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


AMAZON_TOPIC = "arn:aws:sns:us-east-1:906013806264:AmazonMarketingStream"  # sp-traffic's NA account
TOKEN = "2336412f37fb687f5d51e6e2425f004a"
SNS_HOST = "https://sns.us-east-1.amazonaws.com/"


def confirmation(url: str, topic: str = AMAZON_TOPIC, token: str = TOKEN) -> Confirmation:
    return Confirmation(topic, token, url)


@pytest.mark.parametrize(
    "url",
    [
        f"{SNS_HOST}?Action=ConfirmSubscription&TopicArn={AMAZON_TOPIC}&Token={TOKEN}",  # as SNS writes it
        f"{SNS_HOST}?Token={TOKEN}&Action=ConfirmSubscription&TopicArn={AMAZON_TOPIC.replace(':', '%3A')}",
    ],
)
def test_confirmation_as_sns_writes_it_is_trusted(url: str) -> None:
    assert check_confirmation(confirmation(url), realm=Realm.NA, dataset=SP_TRAFFIC) == "us-east-1"


QUERY = f"?Action=ConfirmSubscription&TopicArn={AMAZON_TOPIC}&Token={TOKEN}"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        (f"https://sns.example.com/{QUERY}", "not on sns.us-east-1.amazonaws.com"),
        (f"https://sns.us-east-1.amazonaws.com.example.com/{QUERY}", "not on sns.us-east-1.amazonaws.com"),
        (f"https://sns.us-east-1.amazonaws.com@example.com/{QUERY}", "not on sns.us-east-1.amazonaws.com"),
        (f"https://sns.us-east-1.amazonaws.com:8443/{QUERY}", "not on sns.us-east-1.amazonaws.com"),
        (f"https://sns.us-west-2.amazonaws.com/{QUERY}", "not on sns.us-east-1.amazonaws.com"),
        (f"http://sns.us-east-1.amazonaws.com/{QUERY}", "not on sns.us-east-1.amazonaws.com"),
        (f"https://sns.us-east-1.amazonaws.com/confirm{QUERY}", "not on sns.us-east-1.amazonaws.com"),
        (f"{SNS_HOST}?Action=ConfirmSubscription&TopicArn={AMAZON_TOPIC}x&Token={TOKEN}", "another TopicArn"),
        (f"{SNS_HOST}?Action=ConfirmSubscription&Token={TOKEN}", "another TopicArn"),
        (f"{SNS_HOST}?Action=ConfirmSubscription&TopicArn={AMAZON_TOPIC}&Token=0{TOKEN}", "another Token"),
        (f"{QUERY.replace('?', SNS_HOST + '?')}&TopicArn=arn:aws:sns:us-east-1:1:t", "another TopicArn"),
        (f"{SNS_HOST}?Action=Subscribe&TopicArn={AMAZON_TOPIC}&Token={TOKEN}", "not a ConfirmSubscription"),
        (f"{SNS_HOST}{QUERY}#fragment", "not on sns.us-east-1.amazonaws.com"),
        ("https://[::1/", "not a URL"),
    ],
)
def test_confirmation_whose_url_disagrees_is_refused(url: str, why: str) -> None:
    with pytest.raises(UntrustedTopic, match=why) as caught:
        check_confirmation(confirmation(url), realm=Realm.NA, dataset=SP_TRAFFIC)
    assert TOKEN not in str(caught.value) and "example" not in str(caught.value)  # no secret, no attacker text


def test_confirmation_checks_the_topic_first() -> None:
    url = f"https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=x&Token={TOKEN}"
    with pytest.raises(UntrustedTopic, match="region"):
        check_confirmation(confirmation(url, "arn:aws:sns:us-west-2:123456789012:MyTopic"), realm=Realm.NA,
                           dataset=SP_TRAFFIC)  # fmt: skip


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


GENUINE = f"{SNS_HOST}{QUERY}"


@pytest.mark.parametrize(
    ("url", "topic", "token", "why"),
    [
        (GENUINE.replace("amazonaws", "amazon\taws"), AMAZON_TOPIC, TOKEN, "SubscribeURL holds a space"),
        (GENUINE.replace(".com/", ".com\n/"), AMAZON_TOPIC, TOKEN, "SubscribeURL holds a space"),
        (GENUINE.replace("https", "ht\rtps"), AMAZON_TOPIC, TOKEN, "SubscribeURL holds a space"),
        (" " + GENUINE, AMAZON_TOPIC, TOKEN, "SubscribeURL holds a space"),
        ("\x00" + GENUINE, AMAZON_TOPIC, TOKEN, "SubscribeURL holds a space"),
        (GENUINE.replace("https", "HTTPS"), AMAZON_TOPIC, TOKEN, "not on sns.us-east-1.amazonaws.com"),
        (GENUINE.replace(AMAZON_TOPIC, AMAZON_TOPIC + "%0A"), AMAZON_TOPIC + "\n", TOKEN, "not an SNS topic name"),
        (GENUINE.replace(AMAZON_TOPIC, AMAZON_TOPIC + "%20"), AMAZON_TOPIC + " ", TOKEN, "not an SNS topic name"),
        (GENUINE.replace(TOKEN, TOKEN + "%0A"), AMAZON_TOPIC, TOKEN + "\n", "Token holds a space"),
    ],
)
def test_confirmation_with_characters_the_url_parser_drops_is_refused(
    url: str, topic: str, token: str, why: str
) -> None:
    """Python's urlsplit drops tabs and line breaks and strips leading controls: what it parses is not the text."""
    with pytest.raises(UntrustedTopic, match=why):
        check_confirmation(confirmation(url, topic, token), realm=Realm.NA, dataset=SP_TRAFFIC)


def test_a_fifo_topic_name_is_an_sns_topic_name() -> None:
    assert check_topic(AMAZON_TOPIC + ".fifo", realm=Realm.NA, dataset=SP_TRAFFIC) == "us-east-1"
