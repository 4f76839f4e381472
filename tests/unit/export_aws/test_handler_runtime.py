"""The handlers' deadline: Ads retries and pacing waits see the running invocation's remaining time only."""

from __future__ import annotations

import math

import pytest

from adsbridge.ads import ApiError
from adsbridge.export.handlers import runtime


class Context:
    def __init__(self, millis: int) -> None:
        self.millis = millis

    def get_remaining_time_in_millis(self) -> int:
        return self.millis


def test_the_deadline_is_the_running_invocations_and_only_while_it_runs() -> None:
    assert runtime.POLICY.deadline is not None
    with runtime.retry_later(Context(90_500)):
        assert runtime.POLICY.deadline() == 90.5
    assert runtime.DEADLINE.remaining() == math.inf


def test_a_retryable_ads_error_leaves_as_ads_retryable() -> None:
    with pytest.raises(runtime.AdsRetryable, match="HTTP 0"), runtime.retry_later(Context(1_000)):
        raise ApiError("GET", "/amc", 0, "no response")


def test_a_pacing_wait_into_the_reserve_hands_the_wait_to_step_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(runtime.time, "sleep", slept.append)
    with runtime.retry_later(Context(100_000)):
        runtime.paced_sleep(50.0)
        with pytest.raises(runtime.AdsRetryable, match="pacing wait of 56s"):
            runtime.paced_sleep(56.0)
    assert slept == [50.0]
