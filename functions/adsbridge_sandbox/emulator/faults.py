"""Fault injection: make the emulator answer like a struggling Amazon so client retry logic is exercised.

Faults are decided before authentication and validation, exactly like a load balancer or throttling layer
in front of the real service would answer.
"""

from __future__ import annotations

import random as _random
import threading
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class FaultResponse:
    """What the server sends instead of handling the request."""

    status: int
    message: str
    retry_after: float | None = None
    kind: str = "fail"  # "fail" | "throttle" | "random"

    def retry_after_header(self) -> str | None:
        """Render ``Retry-After`` as Amazon does (integer seconds), or fractional for fast tests."""
        if self.retry_after is None:
            return None
        if float(self.retry_after).is_integer():
            return str(int(self.retry_after))
        return repr(float(self.retry_after))


@dataclass
class _Queued:
    remaining: int
    path_prefix: str
    response: FaultResponse


@dataclass(frozen=True)
class _RandomRule:
    rate: float
    statuses: tuple[int, ...]
    path_prefix: str
    retry_after: float | None


_THROTTLE_MESSAGE = "Too Many Requests"
_FAIL_MESSAGES = {
    500: "Internal Server Error (injected fault)",
    502: "Bad Gateway (injected fault)",
    503: "Service Unavailable (injected fault)",
    504: "Gateway Timeout (injected fault)",
}


class Faults:
    """Queued and random faults; thread-safe. Queued faults are consumed first-registered-first."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Queued] = []
        self._random_rule: _RandomRule | None = None
        self._rng = _random.Random(seed)

    def fail_next(self, n: int, status: int = 503, path_prefix: str = "/amc") -> None:
        """The next ``n`` requests whose path starts with ``path_prefix`` get ``status`` (a 5xx)."""
        if not 500 <= status <= 599:
            raise ValueError(f"fail_next injects server errors (5xx), got {status}")
        self._enqueue(n, path_prefix, FaultResponse(status, _FAIL_MESSAGES.get(status, "Server error (injected)")))

    def throttle_next(self, n: int, retry_after: float | None = 1, path_prefix: str = "/amc") -> None:
        """The next ``n`` matching requests get 429, with ``Retry-After`` unless ``retry_after`` is None.

        Real Amazon sends integer seconds; a fractional value (e.g. 0.05) keeps tests fast.
        """
        if retry_after is not None and retry_after < 0:
            raise ValueError("retry_after must be >= 0")
        self._enqueue(n, path_prefix, FaultResponse(429, _THROTTLE_MESSAGE, retry_after, "throttle"))

    def random(
        self,
        rate: float,
        statuses: Iterable[int] = (429, 500, 503),
        *,
        path_prefix: str = "/amc",
        retry_after: float | None = 1,
    ) -> None:
        """Fail a seeded-random ``rate`` share of matching requests with one of ``statuses``."""
        codes = tuple(statuses)
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if not codes or any(not (code == 429 or 500 <= code <= 599) for code in codes):
            raise ValueError("statuses must be 429 or 5xx codes")
        with self._lock:
            self._random_rule = _RandomRule(rate, codes, path_prefix, retry_after)

    def clear(self) -> None:
        """Remove every queued and random fault."""
        with self._lock:
            self._queue.clear()
            self._random_rule = None

    def pending(self) -> int:
        """How many queued faults are still to be served."""
        with self._lock:
            return sum(q.remaining for q in self._queue)

    def take(self, path: str) -> FaultResponse | None:
        """Decide whether this request gets a fault (consuming a queued one if it matches)."""
        with self._lock:
            for queued in self._queue:
                if path.startswith(queued.path_prefix):
                    queued.remaining -= 1
                    if queued.remaining <= 0:
                        self._queue.remove(queued)
                    return queued.response
            rule = self._random_rule
            if rule is None or not path.startswith(rule.path_prefix):
                return None
            if self._rng.random() >= rule.rate:
                return None
            status = self._rng.choice(rule.statuses)
        if status == 429:
            return FaultResponse(429, _THROTTLE_MESSAGE, rule.retry_after, "random")
        return FaultResponse(status, _FAIL_MESSAGES.get(status, "Server error (injected)"), None, "random")

    def _enqueue(self, n: int, path_prefix: str, response: FaultResponse) -> None:
        if n < 0:
            raise ValueError("n must be >= 0")
        if n == 0:
            return
        with self._lock:
            self._queue.append(_Queued(n, path_prefix, response))
