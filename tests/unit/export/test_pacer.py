from adsbridge.export.upload import Pacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_stays_under_the_limit_in_every_sliding_window() -> None:
    t = FakeTime()
    pacer = Pacer(10_000, clock=t.clock, sleep=t.sleep, window=3600)
    sent: list[tuple[float, int]] = []
    for _ in range(10):
        pacer.before(6_000)
        sent.append((t.now, 6_000))
        t.now += 1  # uploading takes a second
    for start, _ in sent:
        in_window = sum(n for at, n in sent if start <= at < start + 3600)
        assert in_window <= 10_000
    assert len(t.slept) == 9  # every batch after the first had to wait for the window to slide


def test_no_wait_while_under_the_limit() -> None:
    t = FakeTime()
    pacer = Pacer(1_000_000, clock=t.clock, sleep=t.sleep)
    for _ in range(100):
        pacer.before(6_000)
    assert t.slept == [] and pacer.waited == 0
